module github.com/sfbatch/sfbatch/bench/peers

go 1.26.0

require (
	github.com/forcedotcom/go-soql v0.0.0-20240507183026-011ceab61b9e // indirect
	github.com/go-viper/mapstructure/v2 v2.5.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.0 // indirect
	github.com/jszwec/csvutil v1.10.0 // indirect
	github.com/k-capehart/go-salesforce/v3 v3.1.0 // indirect
	github.com/spf13/afero v1.15.0 // indirect
	golang.org/x/text v0.32.0 // indirect
)
