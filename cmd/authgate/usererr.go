package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/authgate/authgate/proxy/accounts"
)

// plainError is an error whose message is written for the operator, while
// errors.Is and errors.As still find the store's error it stands for: the
// store's wrapping ("sqlite: user by username: not found") never reaches
// the terminal.
type plainError struct {
	msg string
	err error
}

func (e *plainError) Error() string { return e.msg }
func (e *plainError) Unwrap() error { return e.err }

// userError says in the operator's words what a store error means for the
// user named username; other errors are returned unchanged.
func userError(err error, username string) error {
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return &plainError{fmt.Sprintf("no user %q", username), err}
	case errors.Is(err, accounts.ErrUsernameTaken):
		return &plainError{fmt.Sprintf("user %q already exists", username), err}
	case errors.Is(err, accounts.ErrEmailTaken):
		return &plainError{"that email is already registered to another user", err}
	case errors.Is(err, accounts.ErrUnavailable):
		return &plainError{"the store is unavailable (is the database up, and the store setting right?)", err}
	}
	return err
}

// addError explains why 'users add' failed. The account service answers
// a taken username or email alike (signup must not reveal which emails are
// registered); the operator may know, so the store is asked which.
func (a *userAdmin) addError(ctx context.Context, err error, username, email string) error {
	store := a.res.Store()
	if u, lerr := store.UserByUsername(ctx, username); lerr == nil {
		return userError(accounts.ErrUsernameTaken, u.Username)
	}
	if email != "" {
		if _, lerr := store.UserByEmail(ctx, email); lerr == nil {
			return &plainError{fmt.Sprintf("email %q is already registered to another user", email), accounts.ErrEmailTaken}
		}
	}
	return userError(err, username)
}
