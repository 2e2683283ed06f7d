// SPDX-License-Identifier: BSD-2-Clause

// Package store is a tiny in-memory key-value store whose functions fail on
// known inputs, so that tests can count non-nil errors per function.
package store

import (
	"errors"
	"sync"
)

var (
	// ErrNotFound is returned by Get and Delete for a key that is absent.
	ErrNotFound = errors.New("store: not found")
	// ErrEmptyKey is returned by Put for the empty key.
	ErrEmptyKey = errors.New("store: empty key")
)

var (
	mu   sync.Mutex // HTTP handlers call in concurrently
	data = map[string]string{}
)

// Get returns the value of key, or ErrNotFound.
//
//go:noinline
func Get(key string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	val, ok := data[key]
	if !ok {
		return "", ErrNotFound
	}
	return val, nil
}

// Put sets key to val; it fails only for the empty key.
//
//go:noinline
func Put(key, val string) error {
	if key == "" {
		return ErrEmptyKey
	}
	mu.Lock()
	defer mu.Unlock()
	data[key] = val
	return nil
}

// Delete removes key, or returns ErrNotFound if it is absent.
//
//go:noinline
func Delete(key string) error {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := data[key]; !ok {
		return ErrNotFound
	}
	delete(data, key)
	return nil
}
