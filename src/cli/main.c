/*
** main.c -- the replaysim command: dispatches to one cmd_*.c per verb.
** The CLI is a client of the public library API only (include/rsim).
*/
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "usage: replaysim <command> ...\n");
  return 2;
}
