/* Pictures in and out through io/image_file, on the real samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/image_file.h"

static const char *sample(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", getenv("PTIM_SAMPLES_DIR"), name);
    return path;
}

static void test_load_astronaut(void **state)
{
    (void)state;
    img_image img;
    ptim_error err;
    assert_int_equal(io_image_load(sample("astronaut.png"), IMG_FMT_RGB24, &img, &err), 0);
    assert_int_equal(img.view.width, 512);
    assert_int_equal(img.view.height, 512);
    img_image_free(&img);
}

static void test_missing_file_is_clear_error(void **state)
{
    (void)state;
    img_image img;
    ptim_error err = {0};
    assert_int_equal(io_image_load("/nonexistent/x.png", IMG_FMT_RGB24, &img, &err), -1);
    assert_non_null(strstr(err.message, "/nonexistent/x.png"));
}

static void test_png_roundtrip_is_lossless(void **state)
{
    (void)state;
    img_image a, b;
    ptim_error err;
    assert_int_equal(io_image_load(sample("messi5.jpg"), IMG_FMT_RGB24, &a, &err), 0);
    char out[4096];
    snprintf(out, sizeof out, "%s/roundtrip.png", getenv("PTIM_TEST_TMP"));
    assert_int_equal(io_image_save(out, &a.view, &err), 0);
    assert_int_equal(io_image_load(out, IMG_FMT_RGB24, &b, &err), 0);
    assert_int_equal(a.view.width, b.view.width);
    for (int y = 0; y < a.view.height; y++)
        assert_memory_equal(a.view.data[0] + y * a.view.stride[0],
                            b.view.data[0] + y * b.view.stride[0], a.view.width * 3);
    img_image_free(&a);
    img_image_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_astronaut),
        cmocka_unit_test(test_missing_file_is_clear_error),
        cmocka_unit_test(test_png_roundtrip_is_lossless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
