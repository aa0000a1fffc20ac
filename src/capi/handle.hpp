// What the opaque raft_node handle is.  Internal: white-box tests and the
// simulator include it to inspect a node's core; users never see it.
#pragma once

#include <memory>

#include "node/node.hpp"

struct raft_node {
  std::unique_ptr<raft::node::Node> impl;
};
