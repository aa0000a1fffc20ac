// raft.hpp on its own (C++17 and later): it must include what it uses and compile cleanly
// under -pedantic -Wall -Wextra -Werror.  check-headers.sh compiles it only when
// include/raft.hpp exists.
#include <raft.hpp>

// Again: the include guard must make a second inclusion harmless.
#include <raft.hpp>

int main() { return 0; }
