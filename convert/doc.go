// Package convert turns values as users have them (European or US dates, local times,
// "yes"/"no", "1.234,56") into the text Salesforce expects, one column at a time, before a
// load sends them. A value that cannot be converted is an error naming the expected format;
// it is never sent as it was.
//
// Rules are applied to a load.Source by Source: a row with a value that cannot be
// converted fails alone (a *load.InputError with its file, row, column and the expected
// format), the other rows go on.
//
// # Formats
//
// Date and date-time formats are written with the tokens YYYY, YY, MM, M, DD, D, HH, H,
// mm, ss, SSS (fraction of a second) and Z (a zone offset such as +02:00 or Z); anything
// else is literal. A Go reference layout (containing "2006") is accepted as is.
//
// # Rules that users ask about
//
//   - Two-digit years are refused unless Rule.Pivot is set: with Pivot 1950, "49" is 2049
//     and "50" is 1950 (every year falls in [Pivot, Pivot+99]).
//   - A date-time without a zone is read in Rule.Zone (UTC when nil). A local time that
//     does not exist (the hour skipped when clocks go forward) is moved forward by the
//     length of the gap: 02:30 on a spring-forward night in Europe/Paris is 03:30 local,
//     01:30 UTC. A local time that happens twice (clocks go back) is the earlier instant,
//     the one before the change. These are java.time's rules, also Data Loader's.
//   - Dates before 1970 and after 2038 are ordinary dates.
//   - Blank stays blank (what it means is the load's null handling); a value listed in
//     Rule.Nulls becomes an explicit null (#N/A).
//
// # What this package owns, and what it must not touch
//
// It owns the conversion rules and the format tokens: the text of one value
// in, the text Salesforce expects out, or an error naming the expected
// format. It wraps a load.Source and never reaches into the load beyond it:
// it does not chunk, send, retry or record rows, never talks to Salesforce,
// and does not decide what a blank means (the load's null handling does).
// It imports only load and sfcsv, never the CLI or the emulator.
package convert
