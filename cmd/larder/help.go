package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// groupShort describes the command groups in help.
var groupShort = map[string]string{
	"migrate": "apply, revert, inspect and check migrations",
	"schema":  "read, compare and check schemas",
	"db":      "seed, back up, restore and reset a database",
}

// help answers `larder help [GROUP | COMMAND]` on stdout (exit 0).
func help(e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stdout)
		return 0
	}
	if c, rest := lookup(args); c != nil && len(rest) == 0 {
		c.run(context.Background(), e, []string{"-h"})
		return 0
	}
	if len(args) == 1 && isGroup(args[0]) {
		printGroup(e.stdout, args[0])
		return 0
	}
	fmt.Fprintf(e.stderr, "larder help: no command %q\n\n", strings.Join(args, " "))
	printHelp(e.stderr)
	return 2
}

// unknown answers args that name no command: a group alone lists its
// commands, GROUP -h does so on stdout.
func unknown(e *env, args []string) int {
	if isGroup(args[0]) {
		switch {
		case len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help"):
			printGroup(e.stdout, args[0])
			return 0
		case len(args) == 1:
			fmt.Fprintf(e.stderr, "larder %s: which one?\n\n", args[0])
		default:
			fmt.Fprintf(e.stderr, "larder: unknown command %q\n\n", args[0]+" "+args[1])
		}
		printGroup(e.stderr, args[0])
		return 2
	}
	fmt.Fprintf(e.stderr, "larder: unknown command %q\n\n", args[0])
	printHelp(e.stderr)
	return 2
}

func commandNames(prefix string) []string {
	var names []string
	for n := range commands {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: larder COMMAND [flags]\n\ncommands:")
	for _, n := range commandNames("") {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].short)
	}
	fmt.Fprint(w, `
  help COMMAND     a command's flags (also: larder COMMAND -h)
  --version        the version of this larder

Flags not given come from LARDER_DB / LARDER_DIR, then larder.toml (in this
directory or a parent up to the git root); --dir defaults to migrations or
db/migrations when one exists. Exit status: 0 ok, 1 failure, 2 usage.
`)
}

func printGroup(w io.Writer, group string) {
	fmt.Fprintf(w, "usage: larder %s COMMAND [flags]\n\n", group)
	if s := groupShort[group]; s != "" {
		fmt.Fprintf(w, "%s\n\n", s)
	}
	fmt.Fprintln(w, "commands:")
	for _, n := range commandNames(group + " ") {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].short)
	}
	fmt.Fprintf(w, "\nRun `larder %s COMMAND -h` for a command's flags.\n", group)
}
