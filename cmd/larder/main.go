// Command larder applies Larder migrations to SQLite files, checks them for
// backward-incompatible changes, manages seeds and backups, and serves the
// demo app. Run `larder help` for the command list.
//
// Exit status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// A command is one `larder GROUP NAME` entry. Each lives in its own file and
// adds itself to commands from an init function.
type command struct {
	name  string // "migrate up"
	args  string // synopsis after the name
	short string // one line of help
	long  string // optional paragraphs for -h, after short
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch besides its flags.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// isTerminal reports whether stdin is an interactive terminal.
	isTerminal bool
	// getenv reads the environment (LARDER_DB, LARDER_DIR) and wd is the
	// directory larder.toml is looked for from.
	getenv func(string) string
	wd     string
	// probe, when set, is called by parseFlags with the command's flag
	// set instead of parsing (to learn every command's flags).
	probe func(c *command, fs *flag.FlagSet)
	// project is larder.toml, read on first use.
	project     *project
	projectErr  error
	projectRead bool
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("larder: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError marks a mistake in how the command was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "larder: %v\n", err)
		os.Exit(1)
	}
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, isTerminal: stdinIsTerminal(),
		getenv: os.Getenv, wd: wd}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run dispatches args to a command and turns its error into an exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(e, args[1:])
	case "--version", "-version", "version":
		fmt.Fprintf(e.stdout, "larder %s\n", version())
		return 0
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		return unknown(e, args)
	}
	err := cmd.run(ctx, e, rest)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(e.stderr, "larder %s: %v\nusage: larder %s %s\nRun `larder %s -h` for its flags.\n",
			cmd.name, err, cmd.name, cmd.args, cmd.name)
		return 2
	case errors.As(err, new(configError)):
		fmt.Fprintf(e.stderr, "larder %s: %v\n", cmd.name, err)
		return 2
	default:
		fmt.Fprintf(e.stderr, "larder %s: %v\n", cmd.name, err)
		return 1
	}
}

// lookup finds the longest registered command name that prefixes args.
func lookup(args []string) (*command, []string) {
	for n := min(len(args), 2); n > 0; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c, args[n:]
		}
	}
	return nil, nil
}
