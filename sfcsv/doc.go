// Package sfcsv reads and writes CSV in the dialect of the Salesforce Bulk
// APIs (1.0 and 2.0), and formats Go values as the text Salesforce expects.
//
// # Dialect
//
// The first record is the header: field API names, or relationship columns
// such as Account.External_Id__c, which need no special treatment. Every
// record has as many fields as the header.
//
//   - Column delimiters: COMMA (default), TAB, PIPE, SEMICOLON, CARET,
//     BACKQUOTE (see Delimiter and ParseDelimiter). Bulk API 1.0 accepts
//     only COMMA.
//   - Line endings: LF (default) or CRLF (see LineEnding). The Writer ends
//     every record, including the last, with the configured ending. The
//     Reader accepts both, mixed, and a last record without any.
//   - Quoting: a field that holds the delimiter, a double quote, CR or LF is
//     enclosed in double quotes, with each quote doubled. A lone CR is always
//     quoted, so it can never be mistaken for part of a line ending. Fields
//     are never trimmed: leading and trailing spaces are data and need no
//     quotes. Line breaks inside quoted fields are kept byte for byte (CRLF
//     is not turned into LF).
//   - Quotes in the wrong place: Salesforce requires a value holding a quote
//     to be quoted, and fails a row where a quote is next to a space, as in
//     `"John", "Smith"`. The Reader reports a quote inside an unquoted field
//     as ErrBareQuote (unless ReaderOptions.LazyQuotes makes it literal) and
//     text after a closing quote as ErrQuote. Both are row errors: the
//     Reader goes on with the next row.
//   - Encoding: UTF-8 only. Invalid UTF-8 is a *ParseError naming the file,
//     row and column (ErrInvalidUTF8). A byte order mark at the start is
//     skipped by the Reader; Salesforce would otherwise read it as part of
//     the first column name. The Writer writes one only when asked.
//   - Blank lines are skipped by the Reader. The Writer writes a record made
//     of one empty field as "" so that it survives a round trip.
//   - Salesforce's own result and query files quote every field;
//     WriterOptions.QuoteAll produces the same bytes. Reader.LineEnding tells
//     which line ending ended a record, for checking a file against a job's
//     lineEnding.
//
// # Nulls and values
//
// An empty cell leaves a field unchanged on update; the text #N/A
// (NullValue) sets it to null. FormatValue writes nil as either, by the
// Nulls option. It writes booleans as true/false, numbers in plain decimal
// (no exponent), dates as yyyy-MM-dd (Date), datetimes in UTC as
// yyyy-MM-ddTHH:mm:ss.SSSZ, and json.Number and strings verbatim.
//
// # Sizes
//
// Bulk API 1.0 limits a batch to 10,000 records, 10,000,000 characters and
// 10 MB; Bulk API 2.0 limits an upload to 150 MB after base64 encoding.
// Writer.Write returns the exact encoded size of each record in bytes and in
// characters (RowSize), including quotes, delimiters and the line ending, so
// a caller can cut batches without encoding twice; EncodedSize computes the
// same numbers without writing (Writer.Size also honours QuoteAll), and
// AppendRecord encodes into a caller's byte slice.
//
// # Errors
//
// Read errors are *ParseError with File, Row (records, header = 1), Column
// (1-based field number) and Line (physical line where the record starts).
// Row errors do not stop the Reader, so every input row can be given an
// outcome. A few errors do stop it (an I/O error, a record over
// ReaderOptions.MaxRecordBytes, a bad header): a stopping *ParseError is
// returned once, and later reads return a plain error wrapping the same
// cause, so a loop that records bad rows and reads on always ends. The end
// of input is exactly io.EOF; compare with ==, as an error that merely wraps
// io.EOF is not the end.
//
// # Performance
//
// Reader and Writer stream through fixed buffers: memory is bounded by the
// longest record, not by the input. With ReaderOptions.ReuseRecord a read
// allocates one string per record; Writer.Write does not allocate.
package sfcsv
