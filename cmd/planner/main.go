// Command planner is the command-line interface of the planner SQL driver
// for Microsoft Planner: an interactive SQL shell, one-off queries,
// REPLICATE into SQLite, PostgreSQL or MySQL, scheduled replication jobs,
// sign-in management and a local emulator (sandbox). Run `planner help`.
package main

import (
	"os"

	"github.com/plannersql/planner/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.StdIO()))
}
