package soql

import "time"

// dateLiterals are the relative date literals without a number.
var dateLiterals = map[string]bool{
	"YESTERDAY": true, "TODAY": true, "TOMORROW": true,
	"LAST_WEEK": true, "THIS_WEEK": true, "NEXT_WEEK": true,
	"LAST_MONTH": true, "THIS_MONTH": true, "NEXT_MONTH": true,
	"LAST_90_DAYS": true, "NEXT_90_DAYS": true,
	"THIS_QUARTER": true, "LAST_QUARTER": true, "NEXT_QUARTER": true,
	"THIS_YEAR": true, "LAST_YEAR": true, "NEXT_YEAR": true,
	"THIS_FISCAL_QUARTER": true, "LAST_FISCAL_QUARTER": true, "NEXT_FISCAL_QUARTER": true,
	"THIS_FISCAL_YEAR": true, "LAST_FISCAL_YEAR": true, "NEXT_FISCAL_YEAR": true,
}

// dateLiteralsN are the relative date literals written NAME:n.
var dateLiteralsN = map[string]bool{
	"LAST_N_DAYS": true, "NEXT_N_DAYS": true, "N_DAYS_AGO": true,
	"LAST_N_WEEKS": true, "NEXT_N_WEEKS": true, "N_WEEKS_AGO": true,
	"LAST_N_MONTHS": true, "NEXT_N_MONTHS": true, "N_MONTHS_AGO": true,
	"LAST_N_QUARTERS": true, "NEXT_N_QUARTERS": true, "N_QUARTERS_AGO": true,
	"LAST_N_YEARS": true, "NEXT_N_YEARS": true, "N_YEARS_AGO": true,
	"LAST_N_FISCAL_QUARTERS": true, "NEXT_N_FISCAL_QUARTERS": true, "N_FISCAL_QUARTERS_AGO": true,
	"LAST_N_FISCAL_YEARS": true, "NEXT_N_FISCAL_YEARS": true, "N_FISCAL_YEARS_AGO": true,
}

// IsDateLiteral reports whether name (upper case) is a relative date literal,
// and whether it takes a number (NAME:n).
func IsDateLiteral(name string) (ok, takesN bool) {
	if dateLiterals[name] {
		return true, false
	}
	if dateLiteralsN[name] {
		return true, true
	}
	return false, false
}

// DateLiteralRange returns the half-open interval [start, end) in UTC that the
// date literal d covers when evaluated at now. Days start at midnight UTC,
// weeks on Sunday, quarters in January, April, July and October, and fiscal
// periods equal calendar periods (the Salesforce defaults). LAST_N_DAYS:n
// covers today and the n days before it; NEXT_N_DAYS:n the n days after
// today; LAST_N_WEEKS:n (months, quarters, years likewise) the n whole periods
// before the current one; NEXT_N_* the n periods after it; N_*_AGO:n the
// single period n periods before the current one. An unknown name gives an
// empty range (start == end == now).
func DateLiteralRange(d DateLiteral, now time.Time) (start, end time.Time) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return today.AddDate(0, 0, n) }
	week := day(-int(today.Weekday()))
	weeks := func(n int) time.Time { return week.AddDate(0, 0, 7*n) }
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	months := func(n int) time.Time { return month.AddDate(0, n, 0) }
	quarter := time.Date(now.Year(), (now.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	quarters := func(n int) time.Time { return quarter.AddDate(0, 3*n, 0) }
	year := time.Date(now.Year(), time.January, 1, 0, 0, 0, 0, time.UTC)
	years := func(n int) time.Time { return year.AddDate(n, 0, 0) }
	n := d.N
	switch d.Name {
	case "YESTERDAY":
		return day(-1), day(0)
	case "TODAY":
		return day(0), day(1)
	case "TOMORROW":
		return day(1), day(2)
	case "LAST_WEEK":
		return weeks(-1), weeks(0)
	case "THIS_WEEK":
		return weeks(0), weeks(1)
	case "NEXT_WEEK":
		return weeks(1), weeks(2)
	case "LAST_MONTH":
		return months(-1), months(0)
	case "THIS_MONTH":
		return months(0), months(1)
	case "NEXT_MONTH":
		return months(1), months(2)
	case "LAST_90_DAYS":
		return day(-90), day(1)
	case "NEXT_90_DAYS":
		return day(1), day(91)
	case "LAST_QUARTER", "LAST_FISCAL_QUARTER":
		return quarters(-1), quarters(0)
	case "THIS_QUARTER", "THIS_FISCAL_QUARTER":
		return quarters(0), quarters(1)
	case "NEXT_QUARTER", "NEXT_FISCAL_QUARTER":
		return quarters(1), quarters(2)
	case "LAST_YEAR", "LAST_FISCAL_YEAR":
		return years(-1), years(0)
	case "THIS_YEAR", "THIS_FISCAL_YEAR":
		return years(0), years(1)
	case "NEXT_YEAR", "NEXT_FISCAL_YEAR":
		return years(1), years(2)
	case "LAST_N_DAYS":
		return day(-n), day(1)
	case "NEXT_N_DAYS":
		return day(1), day(1 + n)
	case "N_DAYS_AGO":
		return day(-n), day(-n + 1)
	case "LAST_N_WEEKS":
		return weeks(-n), weeks(0)
	case "NEXT_N_WEEKS":
		return weeks(1), weeks(1 + n)
	case "N_WEEKS_AGO":
		return weeks(-n), weeks(-n + 1)
	case "LAST_N_MONTHS":
		return months(-n), months(0)
	case "NEXT_N_MONTHS":
		return months(1), months(1 + n)
	case "N_MONTHS_AGO":
		return months(-n), months(-n + 1)
	case "LAST_N_QUARTERS", "LAST_N_FISCAL_QUARTERS":
		return quarters(-n), quarters(0)
	case "NEXT_N_QUARTERS", "NEXT_N_FISCAL_QUARTERS":
		return quarters(1), quarters(1 + n)
	case "N_QUARTERS_AGO", "N_FISCAL_QUARTERS_AGO":
		return quarters(-n), quarters(-n + 1)
	case "LAST_N_YEARS", "LAST_N_FISCAL_YEARS":
		return years(-n), years(0)
	case "NEXT_N_YEARS", "NEXT_N_FISCAL_YEARS":
		return years(1), years(1 + n)
	case "N_YEARS_AGO", "N_FISCAL_YEARS_AGO":
		return years(-n), years(-n + 1)
	}
	return now, now
}
