// Package filelock opens and locks the small files planner uses to
// coordinate processes (the token store's lock and temporary files, the
// console's edit lock): advisory exclusive OS locks (flock on Unix,
// LockFileEx on Windows) taken without waiting, and opening that never
// follows a symbolic link at the path, so that a link planted there cannot
// make planner create or write a file at its target.
package filelock
