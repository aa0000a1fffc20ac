package raft_test

import (
	"fmt"
	"strconv"

	"libraft/raft"
)

type counter struct{ total int }

func (c *counter) ApplyTransition(id uint64, data []byte) {
	n, _ := strconv.Atoi(string(data))
	c.total += n
}

// A cluster of one replica, driven by Poll on a virtual clock.
func Example() {
	c := &counter{}
	replica, err := raft.New(raft.Options{ID: 1}, c, nil) // no peers, no transport
	if err != nil {
		panic(err)
	}
	defer replica.Close()
	var now uint64
	for {
		st, _ := replica.Status()
		if st.Role == raft.RoleLeader {
			break
		}
		if now, err = replica.Poll(now + 1); err != nil { // any monotonic millisecond clock
			panic(err)
		}
	}
	replica.Propose(1, []byte("40"))
	replica.Propose(2, []byte("2"))
	replica.Poll(now + 1)
	fmt.Println(c.total)
	// Output: 42
}
