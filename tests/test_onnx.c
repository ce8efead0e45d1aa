#include "test_util.h"
int main(void) { return dn_test_finish(); }
