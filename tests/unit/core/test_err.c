/* Error enum: strings, names and the one-to-one wire maps. */
#include "testutil.h"

#include "osap/err.h"
#include "osap/proto.h"

#include <string.h>

static void test_strings(void **state)
{
    (void)state;
    assert_string_equal(osap_strerror(OSAP_OK), "success");
    assert_string_equal(osap_errname(OSAP_EMQTT_QOS), "EMQTT_QOS");
    assert_string_equal(osap_strerror(123456), "unknown error");
    /* negative values (errno style) name the same error */
    assert_string_equal(osap_errname(-OSAP_ETAG), "ETAG");
}

static void test_lbs_results_round_trip(void **state)
{
    (void)state;
    assert_int_equal(osap_err_from_lbs_result(0), OSAP_OK);
    for (int r = 1; r <= OSAP_LBS_RESULT_MAX; r++) {
        osap_err e = osap_err_from_lbs_result((uint8_t)r);
        assert_int_equal(e, 300 + r);
        assert_int_equal(osap_err_to_lbs_result(e), r);
        assert_true(strncmp(osap_strerror(e), "LBS result", 10) == 0);
    }
    assert_int_equal(osap_err_from_lbs_result(20), OSAP_ELBS_RESULT_OTHER);
    assert_int_equal(osap_err_from_lbs_result(255), OSAP_ELBS_RESULT_OTHER);
    assert_int_equal(osap_err_to_lbs_result(OSAP_ETAG), OSAP_LBS_INVALID_DATA);
}

static void test_connack_round_trip(void **state)
{
    (void)state;
    const uint8_t codes[] = {1, 2, 3, 4, 5, 10, 11, 12};
    for (size_t i = 0; i < sizeof(codes); i++) {
        osap_err e = osap_err_from_connack(codes[i]);
        assert_int_equal(e, 400 + codes[i]);
        assert_int_equal(osap_err_to_connack(e), codes[i]);
    }
    assert_int_equal(osap_err_from_connack(0), OSAP_OK);
    assert_int_equal(osap_err_from_connack(6), OSAP_ECONNACK_OTHER);
    assert_int_equal(osap_err_from_connack(13), OSAP_ECONNACK_OTHER);
    assert_int_equal(osap_err_to_connack(OSAP_ENOMEM), OSAP_CONNACK_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_lbs_results_round_trip),
        cmocka_unit_test(test_connack_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
