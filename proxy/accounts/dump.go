package accounts

import "time"

// Dump is everything a store holds, for moving it to another store
// ('authgate store copy'): users, refresh families with every token they
// issued (so reuse of an old token is still detected after the move),
// revocations, and the links of users to accounts at external providers
// (without them a user who signed in through a provider would, after the
// move, get a second account at their next sign-in).
type Dump struct {
	Users    []User
	Families []Family
	Tokens   []IssuedToken
	Denied   []DeniedToken
	Subjects []SubjectRevocation
	Links    []Link
}

// IssuedToken is one refresh token a family issued, by its hash.
type IssuedToken struct {
	Hash     []byte
	FamilyID string
	IssuedAt time.Time
}

// ImportReport says, per kind of record, how many an import added and how
// many the store held already.
type ImportReport struct {
	Users, Families, Tokens, Denied, Subjects, Links ImportCount
}

// ImportCount is one line of an ImportReport.
type ImportCount struct {
	Added, Present int
}
