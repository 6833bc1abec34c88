// Command crashee hits crash points for crashpoint's tests. Five times it
// hits every point named by its arguments, printing "before <name> <i>" and
// "after <name> <i>" around each hit, then exits 0.
package main

import (
	"fmt"
	"os"

	"github.com/actormq/actormq/internal/crashpoint"
)

func main() {
	for i := 1; i <= 5; i++ {
		for _, name := range os.Args[1:] {
			fmt.Println("before", name, i)
			crashpoint.Hit(name)
			fmt.Println("after", name, i)
		}
	}
}
