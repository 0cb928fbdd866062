package load

import (
	"errors"
	"fmt"
	"io"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// CheckStructure reads src to its end without sending anything and returns the first error
// that would end the input early: a header error, a structural *InputError (an unterminated
// quote, a record over the size limit, a JSON line over its limit, an unreadable Parquet
// page) or a read error. rows counts the data rows read, invalid those of them that fail
// alone (see InputError), which do not stop the check.
//
// Loading a file whose structure breaks part-way would send the rows before the break and
// then stop; run CheckStructure over a second Source on the same file before Load, so that
// such a file stops the run before the first upload. Standard input cannot be read twice:
// there Load itself stops at the break, after the rows read before it have their outcomes.
func CheckStructure(src Source) (rows, invalid int64, err error) {
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	if len(src.Header()) == 0 {
		if _, err := src.Next(); err != nil && err != io.EOF {
			return 0, 0, err
		}
	}
	if cs, ok := src.(*csvSource); ok {
		return checkCSV(cs)
	}
	for {
		_, err := src.Next()
		if err == io.EOF {
			return rows, invalid, nil
		}
		var ie *InputError
		if err != nil && !(errors.As(err, &ie) && ie.rowError()) {
			return rows, invalid, err
		}
		rows++
		if err != nil {
			invalid++
		}
	}
}

// checkCSV is CheckStructure for CSVSource: the same classification of errors, without
// copying each record.
func checkCSV(s *csvSource) (rows, invalid int64, err error) {
	if s.err != nil {
		return 0, 0, s.err
	}
	for {
		err := s.r.Skip()
		switch {
		case err == io.EOF:
			return rows, invalid, nil
		case err == nil:
			rows++
			continue
		}
		var pe *sfcsv.ParseError
		if !errors.As(err, &pe) {
			return rows, invalid, fmt.Errorf("load: reading %s: %w", s.name, err)
		}
		if errors.Is(err, sfcsv.ErrUnclosedQuote) || errors.Is(err, sfcsv.ErrRecordTooLarge) {
			// The same error the source gives, with its column name.
			_, ierr := s.errorFor(pe, nil)
			return rows, invalid, ierr
		}
		rows++
		invalid++
	}
}
