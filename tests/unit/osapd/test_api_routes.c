/* The api service's pure parts: every route of the router is in the OpenAPI
 * document embedded in osapd (docs/openapi.json) with its method, and every
 * operation of the document is a route; input helpers (times, topic words,
 * resources, path escaping, cursors). */
#include "testutil.h"

#include "api/api_internal.h"
#include "osap/alloc.h"

#include <string.h>

extern const char api_openapi_doc[];
extern const size_t api_openapi_doc_len;

static const char *method_key(enum osap_http_method m) {
  switch (m) {
  case OSAP_HTTP_GET:
    return "get";
  case OSAP_HTTP_POST:
    return "post";
  case OSAP_HTTP_PUT:
    return "put";
  case OSAP_HTTP_PATCH:
    return "patch";
  case OSAP_HTTP_DELETE:
    return "delete";
  default:
    return NULL;
  }
}

static void test_every_route_is_documented(void **state) {
  cJSON *doc, *paths, *item;
  size_t documented = 0;
  int missing = 0;
  (void)state;

  doc = cJSON_ParseWithLength(api_openapi_doc, api_openapi_doc_len);
  assert_non_null(doc);
  paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
  assert_true(cJSON_IsObject(paths));
  for (size_t i = 0; i < api_route_count; i++) {
    const struct api_route *r = &api_routes[i];
    const char *m = method_key(r->method);
    assert_non_null(m);
    item = cJSON_GetObjectItemCaseSensitive(paths, r->pattern);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(item, m))) {
      print_error("docs/openapi.json lacks %s %s\n", m, r->pattern);
      missing++;
      continue;
    }
    /* Public routes say so (security: []), the others do not. */
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(item, m), "security");
    if (r->is_public != (cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0)) {
      print_error(
          "docs/openapi.json: %s %s: security does not match the router\n", m,
          r->pattern);
      missing++;
    }
  }
  /* ...and nothing documented that the router does not have. */
  cJSON_ArrayForEach(item, paths) {
    static const char *const methods[] = {"get", "post", "put", "patch",
                                          "delete"};
    for (size_t k = 0; k < 5; k++) {
      bool found = false;
      if (!cJSON_GetObjectItemCaseSensitive(item, methods[k]))
        continue;
      documented++;
      for (size_t i = 0; i < api_route_count && !found; i++)
        found = strcmp(api_routes[i].pattern, item->string) == 0 &&
                strcmp(method_key(api_routes[i].method), methods[k]) == 0;
      if (!found) {
        print_error(
            "docs/openapi.json documents %s %s, which no route serves\n",
            methods[k], item->string);
        missing++;
      }
    }
  }
  assert_int_equal(missing, 0);
  assert_int_equal(documented, api_route_count);
  cJSON_Delete(doc);
}

static void test_time_parse(void **state) {
  int64_t t = -1;
  (void)state;

  assert_int_equal(api_time_parse("0", &t), OSAP_OK);
  assert_int_equal(t, 0);
  assert_int_equal(api_time_parse("1700000000123", &t), OSAP_OK);
  assert_int_equal(t, 1700000000123LL);
  assert_int_equal(api_time_parse("1970-01-01T00:00:00Z", &t), OSAP_OK);
  assert_int_equal(t, 0);
  assert_int_equal(api_time_parse("2026-11-29T05:09:35Z", &t), OSAP_OK);
  assert_int_equal(t, 1795928975000LL);
  assert_int_equal(api_time_parse("2026-11-29T05:09:35.5Z", &t), OSAP_OK);
  assert_int_equal(t, 1795928975500LL);
  assert_int_equal(api_time_parse("2026-11-29t05:09:35.123z", &t), OSAP_OK);
  assert_int_equal(t, 1795928975123LL);
  assert_int_equal(api_time_parse("2026-11-29T13:09:35+08:00", &t), OSAP_OK);
  assert_int_equal(t, 1795928975000LL);
  assert_int_equal(api_time_parse("2026-11-28T23:09:35-06:00", &t), OSAP_OK);
  assert_int_equal(t, 1795928975000LL);
  assert_int_equal(api_time_parse("2024-02-29T00:00:00Z", &t), OSAP_OK);
  static const char *const bad[] = {
      "",
      "-5",
      "yesterday",
      "2026-11-29",
      "2026-11-29T05:09:35",
      "2026-13-01T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-11-29T24:00:00Z",
      "2026-11-29T05:09:35.Z",
      "2026-11-29T05:09:35+0800",
      "2026-11-29T05:09:35Zx",
      "1969-12-31T23:59:59Z",
      "12abc",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    t = 42;
    if (api_time_parse(bad[i], &t) != OSAP_EINVAL)
      fail_msg("accepted %s", bad[i]);
    assert_int_equal(t, 42);
  }
}

static void test_words_and_paths(void **state) {
  char *s;
  (void)state;

  assert_true(api_word_valid("Brightness"));
  assert_true(api_word_valid("A"));
  assert_false(api_word_valid(""));
  assert_false(api_word_valid("a/b"));
  assert_false(api_word_valid("a+b"));
  assert_false(api_word_valid("a#"));
  assert_false(api_word_valid("a b"));
  assert_false(api_word_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
  assert_true(api_word_valid("abcdefghijklmnopqrstuvwxyz01234"));   /* 31 */
  assert_true(api_resource_valid("0-global"));
  assert_true(api_resource_valid("12-video"));
  assert_false(api_resource_valid("global"));
  assert_false(api_resource_valid("-video"));
  assert_false(api_resource_valid("x-video"));
  assert_false(api_resource_valid("1-"));
  assert_false(api_resource_valid("1-a-b"));
  assert_true(api_child_valid("global"));
  assert_true(api_child_valid("CHILD0001"));
  assert_false(api_child_valid(""));
  assert_false(api_child_valid("a/b"));

  s = api_path_escape("pk:door 7/%?#");
  assert_string_equal(s, "pk:door%207%2F%25%3F%23");
  osap_free(s);
  s = api_cursor_encode('d', "Q100");
  assert_non_null(s);
  assert_null(strpbrk(s, "+/="));
  osap_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_route_is_documented),
      cmocka_unit_test(test_time_parse),
      cmocka_unit_test(test_words_and_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
