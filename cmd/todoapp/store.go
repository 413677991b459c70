package main

import (
	"slices"
	"sync"
)

// todo is one item of a subject's list.
type todo struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

// todoPatch holds the optional fields of a partial update; nil means "leave
// unchanged".
type todoPatch struct {
	Title *string
	Done  *bool
}

// store keeps todos in memory, per subject, in creation order. IDs are
// unique and increasing across the whole store. It is safe for concurrent
// use.
type store struct {
	mu     sync.Mutex
	lastID int64
	todos  map[string][]todo // subject -> todos, oldest first
}

func newStore() *store {
	return &store{todos: make(map[string][]todo)}
}

// list returns a copy of subject's todos in creation order; never nil.
func (s *store) list(subject string) []todo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]todo{}, s.todos[subject]...)
}

// create adds a todo for subject and returns it.
func (s *store) create(subject, title string) todo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastID++
	t := todo{ID: s.lastID, Title: title}
	s.todos[subject] = append(s.todos[subject], t)
	return t
}

// get returns subject's todo with the given id. Another subject's todo is
// reported as missing.
func (s *store) get(subject string, id int64) (todo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(subject, id)
	if i < 0 {
		return todo{}, false
	}
	return s.todos[subject][i], true
}

// update applies p to subject's todo with the given id and returns the
// result.
func (s *store) update(subject string, id int64, p todoPatch) (todo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(subject, id)
	if i < 0 {
		return todo{}, false
	}
	t := &s.todos[subject][i]
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Done != nil {
		t.Done = *p.Done
	}
	return *t, true
}

// delete removes subject's todo with the given id and reports whether it
// existed.
func (s *store) delete(subject string, id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(subject, id)
	if i < 0 {
		return false
	}
	s.todos[subject] = slices.Delete(s.todos[subject], i, i+1)
	if len(s.todos[subject]) == 0 {
		delete(s.todos, subject)
	}
	return true
}

// index returns the position of id in subject's list, or -1. s.mu must be
// held.
func (s *store) index(subject string, id int64) int {
	return slices.IndexFunc(s.todos[subject], func(t todo) bool { return t.ID == id })
}
