package graphtest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/plannersql/planner/graph/graphtest"
)

// The standalone form, as `planner sandbox serve` uses it. In tests,
// graphtest.NewServer(t) does the same in one line.
func ExampleNew() {
	srv, err := graphtest.New() // the demo tenant
	if err != nil {
		log.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := srv.Start(l); err != nil { // returns once srv.URL() is set
		log.Fatal(err)
	}
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL()+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var me struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.NewDecoder(res.Body).Decode(&me); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode, me.DisplayName)
	// Output: 200 Adele Vance
}
