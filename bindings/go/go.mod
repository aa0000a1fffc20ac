module libraft/raft

go 1.19
