/* A minimal unit-test harness.
 *
 *    #include "unit.h"
 *    UNIT_TEST(some_name) { ... UNIT_CHECK(cond); UNIT_CHECK_EQ(a, b); ... }
 *    UNIT_MAIN()
 *
 * Tests register themselves through constructor functions and run in source order (by
 * file, then line); "./test_x name1 name2" runs only the named ones.  Each test prints
 * "PASS name" or "FAIL name: file:line: expression", and a final "N passed, N failed"
 * line; the exit status is non-zero if any test failed.
 *
 * A failed check marks the current test failed and returns from the enclosing function.
 * Use the checks in the test body or in void helpers; after a helper fails, the test body
 * goes on, but the test is still reported failed with the first failing check. */
#ifndef VD_TESTS_UNIT_H
#define VD_TESTS_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit_test {
   const char *name;
   const char *file;
   int line;
   void (*fn)(void);
   struct unit_test *next;
};

/* State shared by every translation unit of a test program (weak, so several files may
 * include this header and link together). */
struct unit_state {
   struct unit_test *tests;
   bool failed;       /* current test has failed */
   char failure[512]; /* its first failure, "file:line: expression" */
};
__attribute__((weak)) struct unit_state unit_state;

static inline void unit_register(struct unit_test *t)
{
   t->next = unit_state.tests;
   unit_state.tests = t;
}

/* Records a failure; only the first one of a test is reported. */
static inline void unit_fail(const char *file, int line, const char *expr)
{
   if (!unit_state.failed)
      snprintf(unit_state.failure, sizeof(unit_state.failure), "%s:%d: %s", file, line, expr);
   unit_state.failed = true;
}

#define UNIT_TEST(name)                                                                           \
   static void unit_fn_##name(void);                                                              \
   static struct unit_test unit_rec_##name = { #name, __FILE__, __LINE__, unit_fn_##name, NULL }; \
   __attribute__((constructor)) static void unit_reg_##name(void)                                 \
   {                                                                                              \
      unit_register(&unit_rec_##name);                                                            \
   }                                                                                              \
   static void unit_fn_##name(void)

#define UNIT_CHECK(cond)                       \
   do {                                        \
      if (!(cond)) {                           \
         unit_fail(__FILE__, __LINE__, #cond); \
         return;                               \
      }                                        \
   } while (0)

/* Both operands are evaluated once; they must be comparable with == without sign-compare
 * warnings (cast as needed). */
#define UNIT_CHECK_EQ(a, b)                           \
   do {                                               \
      if (!((a) == (b))) {                            \
         unit_fail(__FILE__, __LINE__, #a " == " #b); \
         return;                                      \
      }                                               \
   } while (0)

#define UNIT_CHECK_STREQ(a, b)                                         \
   do {                                                                \
      const char *unit_a_ = (a), *unit_b_ = (b);                       \
      if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) {     \
         unit_fail(__FILE__, __LINE__, "strcmp(" #a ", " #b ") == 0"); \
         return;                                                       \
      }                                                                \
   } while (0)

static inline bool unit_before(const struct unit_test *a, const struct unit_test *b)
{
   int c = strcmp(a->file, b->file);
   return c < 0 || (c == 0 && a->line < b->line);
}

/* Sorts the registered tests into source order (insertion sort; lists are short). */
static inline void unit_sort(void)
{
   struct unit_test *sorted = NULL;
   while (unit_state.tests) {
      struct unit_test *t = unit_state.tests;
      unit_state.tests = t->next;
      struct unit_test **pp = &sorted;
      while (*pp && !unit_before(t, *pp))
         pp = &(*pp)->next;
      t->next = *pp;
      *pp = t;
   }
   unit_state.tests = sorted;
}

static inline int unit_run(int argc, char **argv)
{
   int passed = 0, failed = 0;

   /* Line-buffered, so the output up to a crash is not lost. */
   setvbuf(stdout, NULL, _IOLBF, 0);
   unit_sort();

   /* Names on the command line that match no test count as failures. */
   for (int i = 1; i < argc; i++) {
      bool found = false;
      for (struct unit_test *t = unit_state.tests; t && !found; t = t->next)
         found = strcmp(t->name, argv[i]) == 0;
      if (!found) {
         printf("FAIL %s: no such test\n", argv[i]);
         failed++;
      }
   }

   for (struct unit_test *t = unit_state.tests; t; t = t->next) {
      if (argc > 1) {
         bool wanted = false;
         for (int i = 1; i < argc && !wanted; i++)
            wanted = strcmp(t->name, argv[i]) == 0;
         if (!wanted)
            continue;
      }
      unit_state.failed = false;
      unit_state.failure[0] = '\0';
      t->fn();
      if (unit_state.failed) {
         printf("FAIL %s: %s\n", t->name, unit_state.failure);
         failed++;
      } else {
         printf("PASS %s\n", t->name);
         passed++;
      }
   }

   printf("%d passed, %d failed\n", passed, failed);
   return failed ? 1 : 0;
}

#define UNIT_MAIN()                \
   int main(int argc, char **argv) \
   {                               \
      return unit_run(argc, argv); \
   }

#endif
