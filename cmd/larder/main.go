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
	"sort"
	"strings"
)

// A command is one `larder GROUP NAME` entry. Each lives in its own file and
// adds itself to commands from an init function.
type command struct {
	name  string // "migrate up"
	args  string // synopsis after the name
	short string // one line of help
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch besides its flags.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// isTerminal reports whether stdin is an interactive terminal.
	isTerminal bool
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
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, isTerminal: stdinIsTerminal()}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run dispatches args to a command and turns its error into an exit status.
func run(ctx context.Context, e *env, args []string) int {
	cmd, rest := lookup(args)
	if cmd == nil {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			printHelp(e.stdout)
			return 0
		}
		fmt.Fprintf(e.stderr, "larder: unknown command %q\n\n", strings.Join(args[:min(len(args), 2)], " "))
		printHelp(e.stderr)
		return 2
	}
	err := cmd.run(ctx, e, rest)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(e.stderr, "larder %s: %v\nusage: larder %s %s\n", cmd.name, err, cmd.name, cmd.args)
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

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: larder COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-16s %s\n", n, c.short)
	}
	fmt.Fprintln(w, "\nRun `larder COMMAND -h` for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting, so
// that bad flags become usage errors (exit 2).
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("larder "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: larder %s %s\n\n%s\n\nflags:\n", c.name, c.args, c.short)
		fs.PrintDefaults()
	}
	return fs
}

// flagsFor returns the flag set of the command called name.
func flagsFor(e *env, name string) *flag.FlagSet { return newFlags(e, commands[name]) }

// parse parses args with fs and checks that exactly one positional
// argument per name remains, returning them: names say what each one is
// ("NAME", "version N") in the usage error.
func parse(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	rest, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return nil, err
	case len(names) == 0 && len(rest) > 0:
		return nil, usagef("unexpected argument %q", rest[0])
	case len(rest) != len(names):
		return nil, usagef("give exactly one %s", strings.Join(names, " and one "))
	}
	return rest, nil
}

// parseFlags parses args, allowing flags after positional arguments, and
// converts flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
