package load

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMappingApply(t *testing.T) {
	t.Parallel()
	sdl := "\uFEFF# Contacts from the legacy CRM\n" +
		"FIRST=FirstName\n" +
		"last = LastName\n" +
		"EMAIL=Email, Username__c\n" +
		"\"Web\"=LeadSource\n" +
		"LEGACY\\=ID=\n" +
		"! another comment style\n"
	m, err := ParseMapping(strings.NewReader(sdl), "contacts.sdl")
	if err != nil {
		t.Fatal(err)
	}
	in := CSVSource(strings.NewReader("FIRST,LAST,EMAIL,LEGACY=ID,IGNORED\nAda,Lovelace,ada@example.com,7,x\nAlan,Turing,alan@example.com,8,y\n"), "in.csv", CSVOptions{})
	src, err := m.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := src.Header(), []string{"FirstName", "LastName", "Email", "Username__c", "LeadSource"}; !cmp.Equal(got, want) {
		t.Errorf("header = %v, want %v", got, want)
	}
	var got []Row
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []Row{
		{Number: 1, Line: 2, Values: []string{"Ada", "Lovelace", "ada@example.com", "ada@example.com", "Web"}},
		{Number: 2, Line: 3, Values: []string{"Alan", "Turing", "alan@example.com", "alan@example.com", "Web"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestMappingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sdl, header, want string
	}{
		{name: "no separator", sdl: "FIRST\n", header: "FIRST", want: `m.sdl:1: expected "source=Target"`},
		{name: "missing column", sdl: "# x\nNOPE=LastName\n", header: "FIRST", want: `m.sdl:2: the input has no column "NOPE"`},
		{name: "duplicate target", sdl: "A=Name\nB=name\n", header: "A,B", want: "m.sdl:2: field name is already mapped at m.sdl:1"},
		{name: "constant without target", sdl: "\"x\"=\n", header: "A", want: "m.sdl:1: a constant needs a target field"},
		{name: "nothing mapped", sdl: "A=\n", header: "A", want: "maps no column to a field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseMapping(strings.NewReader(tc.sdl), "m.sdl")
			if err == nil {
				_, err = m.Apply(CSVSource(strings.NewReader(tc.header+"\n"), "in.csv", CSVOptions{}))
			}
			var me *MappingError
			if !errors.As(err, &me) {
				t.Fatalf("error = %v, want a *MappingError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMappingAddFlag(t *testing.T) {
	t.Parallel()
	m := &Mapping{}
	for _, spec := range []string{"first=FirstName", `"Acme"=Company`} {
		if err := m.Add(spec); err != nil {
			t.Fatalf("Add(%q): %v", spec, err)
		}
	}
	got, err := m.Targets([]string{"First", "Other"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"FirstName", "Company"}; !cmp.Equal(got, want) {
		t.Errorf("Targets = %v, want %v", got, want)
	}
}
