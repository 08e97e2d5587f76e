//go:build !js

// Command probe is a test program for the opfs and idb VFSes in a real
// browser (see main_js.go); natively it does nothing.
package main

func main() {}
