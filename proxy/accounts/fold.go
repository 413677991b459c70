package accounts

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// FoldKey is the form in which usernames and emails are compared, for
// uniqueness and lookup: Unicode NFKC, then full case folding, then NFKC
// again (folding can undo a normal form), in the manner of Unicode's
// NFKC_Casefold. So "Alice" and "alice" are one account, and so are "kate"
// and "Kate" written with the Kelvin sign U+212A, "ｋａｔｅ" in fullwidth
// letters, or "strasse" and "straße": a name that looks like a registered
// one cannot take its place.
//
// Every Store folds with FoldKey, in Go rather than in the database, so the
// same names collide in every store whatever its locale. For ASCII, FoldKey
// is strings.ToLower, which earlier versions used.
func FoldKey(s string) string {
	// A Caser keeps state: one per call, so FoldKey is safe for concurrent use.
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}
