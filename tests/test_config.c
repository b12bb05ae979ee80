/* core/config: sources, precedence, validation messages from every source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static char *tmp_path(const char *name)
{
    static char path[4][4096];
    static int k;
    const char *dir = getenv("PTIM_TEST_TMP");
    char *p = path[k++ % 4];
    snprintf(p, 4096, "%s/test_config_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
    return p;
}

static const char *write_ini(const char *name, const char *text)
{
    char *p = tmp_path(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Load with file/env/sets and expect failure with exactly `msg`. */
static void expect_error(const ptim_config_sources *src, const char *msg)
{
    ptim_config *cfg = NULL;
    ptim_error err = {0};
    assert_int_equal(ptim_config_load(src, &cfg, &err), -1);
    assert_null(cfg);
    assert_int_equal(err.category, PTIM_ERR_CONFIG);
    assert_int_equal(ptim_error_exit_status(&err), 2);
    assert_string_equal(err.message, msg);
}

static void test_defaults(void **state)
{
    (void)state;
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_new(NULL, 0, &cfg, &err), 0);
    assert_int_equal(ptim_config_int(cfg, "performance.target_fps"), 30);
    assert_true(ptim_config_float(cfg, "detector.threshold") == 0.5);
    assert_string_equal(ptim_config_str(cfg, "mask.mode"), "blur");
    assert_true(ptim_config_bool(cfg, "track.smoothing"));
    for (int i = 0; i < ptim_option_count; i++) {
        assert_int_equal(ptim_config_source_of(cfg, i), PTIM_CONFIG_DEFAULT);
        assert_string_equal(ptim_config_origin(cfg, i), "default");
    }
    ptim_config_release(cfg);
}

/* Every default in the table passes its own validation. */
static void test_table_defaults_valid(void **state)
{
    (void)state;
    for (int i = 0; i < ptim_option_count; i++) {
        char norm[4200], why[200];
        if (ptim_option_validate(&ptim_options[i], ptim_options[i].def, norm, sizeof norm, why, sizeof why))
            fail_msg("default of %s: %s", ptim_options[i].key, why);
        assert_non_null(strchr(ptim_options[i].key, '.'));
        assert_true(ptim_options[i].help && *ptim_options[i].help);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(ptim_options[i].key, ptim_options[k].key);
    }
}

static void test_precedence(void **state)
{
    (void)state;
    const char *ini = write_ini("prec.ini",
                                "; comment\n[performance]\ntarget_fps = 20\nmax_processing_workers = 2\n"
                                "[detector]\nthreshold = 0.7 ; inline comment\nmodel: full\n"
                                "[mask]\nmode = pixelate\n");
    char *env[] = {"PTIM_TARGET_FPS=25", "PTIM_MAX_WORKERS=3", "PTIM_PERFORMANCE_MAX_PROCESSING_WORKERS=5",
                   "PTIM_DETECTOR_THRESHOLD=0.8", "PTIM_BIN=/x/ptim", "HOME=/root", NULL};
    const char *sets[] = {"performance.target_fps=60", "mask.mode=solid"};
    ptim_config_sources src = {.file = ini, .file_required = true, .environ = env, .sets = sets, .set_count = 2};
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_load(&src, &cfg, &err), 0);
    int fps = ptim_option_index("performance.target_fps");
    assert_int_equal(ptim_config_int(cfg, "performance.target_fps"), 60);
    assert_int_equal(ptim_config_source_of(cfg, fps), PTIM_CONFIG_CLI);
    assert_string_equal(ptim_config_origin(cfg, fps), "--set");
    /* canonical name beats the seed name */
    assert_int_equal(ptim_config_int(cfg, "performance.max_processing_workers"), 5);
    assert_string_equal(ptim_config_origin(cfg, ptim_option_index("performance.max_processing_workers")),
                        "environment PTIM_PERFORMANCE_MAX_PROCESSING_WORKERS");
    assert_true(ptim_config_float(cfg, "detector.threshold") == 0.8);
    assert_string_equal(ptim_config_str(cfg, "detector.model"), "full");
    char origin[4200];
    snprintf(origin, sizeof origin, "%s:7", ini);
    assert_string_equal(ptim_config_origin(cfg, ptim_option_index("detector.model")), origin);
    assert_int_equal(ptim_config_source_of(cfg, ptim_option_index("detector.model")), PTIM_CONFIG_FILE);
    assert_string_equal(ptim_config_str(cfg, "mask.mode"), "solid");
    assert_string_equal(ptim_config_file(cfg), ini);
    ptim_config_release(cfg);
    unlink(ini);
}

static void test_seed_env_names(void **state)
{
    (void)state;
    char *env[] = {"PTIM_GPU_MEMORY_POOL_SIZE=512", "PTIM_MAX_WORKERS=8", "PTIM_TARGET_FPS=15",
                   "PTIM_MODEL_QUALITY=high", NULL};
    ptim_config_sources src = {.environ = env};
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_load(&src, &cfg, &err), 0);
    assert_int_equal(ptim_config_int(cfg, "performance.gpu_memory_pool_size_mb"), 512);
    assert_int_equal(ptim_config_int(cfg, "performance.max_processing_workers"), 8);
    assert_int_equal(ptim_config_int(cfg, "performance.target_fps"), 15);
    assert_string_equal(ptim_config_str(cfg, "quality.model_quality"), "high");
    ptim_config_release(cfg);
}

static void test_ini_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg; /* msg after "<path>:" */
    } cases[] = {
        {"[detector]\nthreshold = 0.5\n\n\n\n\n\n\n\n\n\nthreshold = 1.7\n", "12: detector.threshold = 1.7 is out of range [0.01, 1]"},
        {"[detector]\ntreshold = 0.4\n", "2: unknown key detector.treshold (did you mean detector.threshold?)"},
        {"[detectr]\nthreshold = 0.4\n", "2: unknown key detectr.threshold (did you mean detector.threshold?)"},
        {"threshold = 0.4\n", "1: unknown key threshold (did you mean detector.threshold?)"},
        {"[zzz]\nqqqqqqqq = 1\n", "2: unknown key zzz.qqqqqqqq (see ptim config keys)"},
        {"[detector]\nthreshold 0.4\n", "2: malformed line (expected name = value or [section])"},
        {"[detector\nthreshold = 0.4\n", "1: malformed line (expected name = value or [section])"},
        {"[performance]\ntarget_fps = fast\n", "2: performance.target_fps = fast is not a number"},
        {"[performance]\ntarget_fps = 2.5\n", "2: performance.target_fps = 2.5 is not a whole number"},
        {"[performance]\ntarget_fps = 0\n", "2: performance.target_fps = 0 is out of range [1, 120]"},
        {"[performance]\ntarget_fps = 99999999999999999999999\n", "2: performance.target_fps = 99999999999999999999999 is out of range [1, 120]"},
        {"[performance]\ntarget_fps =\n", "2: performance.target_fps =  is not a number"},
        {"[track]\nsmoothing = maybe\n", "2: track.smoothing = maybe is not a boolean (true or false)"},
        {"[mask]\nmode = glitter\n", "2: mask.mode = glitter is not one of blur|pixelate|solid|image|swap|none"},
        {"[detector]\nthreshold = nan\n", "2: detector.threshold = nan is not a number"},
        {"[detector]\nthreshold = inf\n", "2: detector.threshold = inf is out of range [0.01, 1]"},
        /* the first error in the file wins */
        {"[a]\nb = 1\n[detector\n", "2: unknown key a.b (see ptim config keys)"},
        {"[detector]\nbad line\nthreshold = 9\n", "2: malformed line (expected name = value or [section])"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *ini = write_ini("bad.ini", cases[k].text);
        char msg[5000];
        snprintf(msg, sizeof msg, "%s:%s", ini, cases[k].msg);
        ptim_config_sources src = {.file = ini, .file_required = true};
        expect_error(&src, msg);
        ptim_error err;
        assert_int_equal(ptim_config_check_file(ini, &err), -1);
        assert_string_equal(err.message, msg);
        unlink(ini);
    }
}

static void test_ini_long_and_nul_lines(void **state)
{
    (void)state;
    char text[1000];
    snprintf(text, sizeof text, "[source]\ninput = %0300d\n", 7);
    ptim_error err;
    assert_int_equal(ptim_config_check_ini(text, strlen(text), "x.ini", &err), -1);
    assert_string_equal(err.message, "x.ini:2: line is longer than 198 characters");
    const char nul[] = "[mask]\nmode = bl\0ur\n";
    assert_int_equal(ptim_config_check_ini(nul, sizeof nul - 1, "y.ini", &err), -1);
    assert_string_equal(err.message, "y.ini:2: line contains a NUL byte");
    const char ok[] = "\xEF\xBB\xBF[mask]\r\nmode = pixelate\r\n# hash comment\n;semi\n\n";
    assert_int_equal(ptim_config_check_ini(ok, sizeof ok - 1, "z.ini", &err), 0);
    assert_int_equal(ptim_config_check_ini("", 0, "e.ini", &err), 0);
    const char dotted[] = "detector.threshold = 0.3\n";
    assert_int_equal(ptim_config_check_ini(dotted, sizeof dotted - 1, "d.ini", &err), 0);
}

static void test_missing_files(void **state)
{
    (void)state;
    const char *none = tmp_path("does-not-exist.ini");
    ptim_config_sources optional = {.file = none};
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_load(&optional, &cfg, &err), 0); /* <userdata>/config.ini absent: fine */
    assert_null(ptim_config_file(cfg));
    ptim_config_release(cfg);
    ptim_config_sources required = {.file = none, .file_required = true};
    char msg[5000];
    snprintf(msg, sizeof msg, "cannot read config file %s: No such file or directory", none);
    expect_error(&required, msg);
}

static void test_env_errors(void **state)
{
    (void)state;
    static const struct {
        const char *var, *msg;
    } cases[] = {
        {"PTIM_TARGET_FPS=fast", "environment PTIM_TARGET_FPS='fast' is not a number"},
        {"PTIM_TARGET_FPS=500", "environment PTIM_TARGET_FPS='500' is out of range [1, 120]"},
        {"PTIM_PERFORMANCE_TARGET_FPS=30fps", "environment PTIM_PERFORMANCE_TARGET_FPS='30fps' is not a number"},
        {"PTIM_DETECTOR_THRESHOLD=0x", "environment PTIM_DETECTOR_THRESHOLD='0x' is not a number"},
        {"PTIM_DETECTOR_THRESHOLD=-1", "environment PTIM_DETECTOR_THRESHOLD='-1' is out of range [0.01, 1]"},
        {"PTIM_MODEL_QUALITY=ultra", "environment PTIM_MODEL_QUALITY='ultra' is not one of low|balanced|high"},
        {"PTIM_TRACK_SMOOTHING=\xff\xfe", "environment PTIM_TRACK_SMOOTHING='?\?' is not a boolean (true or false)"},
        {"PTIM_SOURCE_INPUT=a\nb", "environment PTIM_SOURCE_INPUT='a?b' contains a control character"},
        {"PTIM_MASK_COLOR=\x1b[31m", "environment PTIM_MASK_COLOR='?[31m' is not a colour of the form #RRGGBB (e.g. #202020)"},
        {"PTIM_MASK_COLOR=red", "environment PTIM_MASK_COLOR='red' is not a colour of the form #RRGGBB (e.g. #202020)"},
        {"PTIM_MASK_COLOR=#12345", "environment PTIM_MASK_COLOR='#12345' is not a colour of the form #RRGGBB (e.g. #202020)"},
        {"PTIM_DETECTOR_TILES=99", "environment PTIM_DETECTOR_TILES='99' is not auto, off or a number of tiles across from 1 to 8"},
        {"PTIM_DETECTOR_TILES=2x2", "environment PTIM_DETECTOR_TILES='2x2' is not auto, off or a number of tiles across from 1 to 8"},
        /* a value is checked whole, never on a shortened copy (150 zeros then 5 is not 0) */
        {"PTIM_TRACK_HOLD_MS=000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005",
         "environment PTIM_TRACK_HOLD_MS='000000000000000000000000000000000000000000000000000000000000...' is too long (150 characters) for a setting of type int"},
        {"PTIM_MASK_FEATHER=0.50000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000junk",
         "environment PTIM_MASK_FEATHER='0.5000000000000000000000000000000000000000000000000000000000...' is too long (137 characters) for a setting of type float"},
        {"PTIM_DETECTOR_TRESHOLD=0.5", "environment PTIM_DETECTOR_TRESHOLD is not a setting (did you mean PTIM_DETECTOR_THRESHOLD?)"},
        {"PTIM_MASK_QQQQQQQQQQ=1", "environment PTIM_MASK_QQQQQQQQQQ is not a setting (see ptim config keys)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *env[] = {(char *)cases[k].var, NULL};
        ptim_config_sources src = {.environ = env};
        expect_error(&src, cases[k].msg);
    }
    /* A very long garbage value is cut in the message, not the sentence. */
    char big[6000] = "PTIM_TARGET_FPS=";
    memset(big + 16, 'x', 5000);
    big[5016] = 0;
    char *env[] = {big, NULL};
    ptim_config_sources src = {.environ = env};
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_load(&src, &cfg, &err), -1);
    assert_true(strlen(err.message) < 200);
    assert_non_null(strstr(err.message, "is longer than 4096 bytes"));
    /* An empty variable means "not set": the default (or the file) stays. */
    char *empty[] = {"PTIM_TARGET_FPS=", "PTIM_DETECTOR_THRESHOLD=", NULL};
    ptim_config_sources src_empty = {.environ = empty};
    assert_int_equal(ptim_config_load(&src_empty, &cfg, &err), 0);
    assert_int_equal(ptim_config_int(cfg, "performance.target_fps"), 30);
    assert_int_equal(ptim_config_source_of(cfg, ptim_option_index("performance.target_fps")), PTIM_CONFIG_DEFAULT);
    ptim_config_release(cfg);
    /* Other PTIM_* variables are not settings and are ignored. */
    char *other[] = {"PTIM_BIN=/usr/bin/ptim", "PTIM_SAMPLES_DIR=/x", "PTIM_TEST_TMP=/t", "PTIM_=1", "PTIM", NULL};
    ptim_config_sources src2 = {.environ = other};
    assert_int_equal(ptim_config_load(&src2, &cfg, &err), 0);
    ptim_config_release(cfg);
}

static void test_set_errors(void **state)
{
    (void)state;
    static const struct {
        const char *set, *msg;
    } cases[] = {
        {"performance.target_fps=fast", "--set performance.target_fps='fast' is not a number"},
        {"performance.target_fps=121", "--set performance.target_fps='121' is out of range [1, 120]"},
        {"detector.treshold=0.4", "--set detector.treshold: unknown key detector.treshold (did you mean detector.threshold?)"},
        {"mask.mode", "--set 'mask.mode' is not key=value"},
        {"=3", "--set '=3' is not key=value"},
        {"mask.mode=", "--set mask.mode='' is not one of blur|pixelate|solid|image|swap|none"},
        {"track.smoothing=2", "--set track.smoothing='2' is not a boolean (true or false)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *sets[] = {cases[k].set};
        ptim_config_sources src = {.sets = sets, .set_count = 1};
        expect_error(&src, cases[k].msg);
    }
}

static void test_value_forms(void **state)
{
    (void)state;
    const char *sets[] = {"track.smoothing=OFF", "landmarks.enabled=yes", "mask.mode=PIXELATE",
                          "detector.threshold= 0.25 ", "performance.target_fps=+7", "source.input=rtsp://h/x y"};
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_new(sets, 6, &cfg, &err), 0);
    assert_false(ptim_config_bool(cfg, "track.smoothing"));
    assert_true(ptim_config_bool(cfg, "landmarks.enabled"));
    assert_string_equal(ptim_config_str(cfg, "mask.mode"), "pixelate");
    assert_true(ptim_config_float(cfg, "detector.threshold") == 0.25);
    assert_int_equal(ptim_config_int(cfg, "performance.target_fps"), 7);
    assert_string_equal(ptim_config_str(cfg, "source.input"), "rtsp://h/x y");
    assert_string_equal(ptim_config_text(cfg, ptim_option_index("track.smoothing")), "false");
    ptim_config_release(cfg);
}

static void test_size_type(void **state)
{
    (void)state;
    ptim_option o = {"x.size", PTIM_OPT_SIZE, "0", 0, 4.0 * 1024 * 1024 * 1024, NULL, false, "h"};
    char norm[64], why[128];
    assert_int_equal(ptim_option_validate(&o, "64k", norm, sizeof norm, why, sizeof why), 0);
    assert_string_equal(norm, "65536");
    assert_int_equal(ptim_option_validate(&o, "1.5MiB", norm, sizeof norm, why, sizeof why), 0);
    assert_string_equal(norm, "1572864");
    assert_int_equal(ptim_option_validate(&o, "2G", norm, sizeof norm, why, sizeof why), 0);
    assert_int_equal(ptim_option_validate(&o, "5G", norm, sizeof norm, why, sizeof why), -1);
    assert_string_equal(why, "is out of range [0, 4294967296]"); /* whole numbers print whole */
    assert_int_equal(ptim_option_validate(&o, "12Q", norm, sizeof norm, why, sizeof why), -1);
    assert_int_equal(ptim_option_validate(&o, "-1", norm, sizeof norm, why, sizeof why), -1);
}

static void test_suggest(void **state)
{
    (void)state;
    assert_string_equal(ptim_option_suggest("mask.mod"), "mask.mode");
    assert_string_equal(ptim_option_suggest("performance.target_fsp"), "performance.target_fps");
    assert_string_equal(ptim_option_suggest("pixelate_cells"), "mask.pixelate_cells");
    assert_null(ptim_option_suggest("completely.different"));
    assert_null(ptim_option_suggest(""));
    char env[128];
    ptim_option_env_name(ptim_option_find("system.model_dir"), env, sizeof env);
    assert_string_equal(env, "PTIM_SYSTEM_MODEL_DIR");
}

static void test_model_dir(void **state)
{
    (void)state;
    ptim_config *cfg;
    ptim_error err;
    assert_int_equal(ptim_config_new(NULL, 0, &cfg, &err), 0);
    assert_string_equal(ptim_model_dir(cfg), PTIM_SOURCE_DIR "/models");
    ptim_config_release(cfg);
    char *env[] = {"PTIM_SYSTEM_MODEL_DIR=/opt/models", NULL};
    ptim_config_sources src = {.environ = env};
    assert_int_equal(ptim_config_load(&src, &cfg, &err), 0);
    assert_string_equal(ptim_model_dir(cfg), "/opt/models");
    ptim_config_release(cfg);
}

static void test_init_roundtrip(void **state)
{
    (void)state;
    const char *p = tmp_path("init.ini");
    unlink(p);
    ptim_error err;
    assert_int_equal(ptim_config_write_defaults(p, &err), 0);
    assert_int_equal(ptim_config_check_file(p, &err), 0);
    /* never overwrites */
    assert_int_equal(ptim_config_write_defaults(p, &err), -1);
    assert_non_null(strstr(err.message, "File exists"));
    /* uncommenting every key gives the defaults back */
    FILE *f = fopen(p, "r");
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    text[n] = 0;
    char *out = calloc(1, 1 << 16), *o = out;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        bool keyline = line[0] == ';' && line[1] != ' ' && strchr(line, '=');
        o += sprintf(o, "%s\n", keyline ? line + 1 : line);
    }
    assert_int_equal(ptim_config_check_ini(out, strlen(out), "uncommented", &err), 0);
    free(text);
    free(out);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_table_defaults_valid),
        cmocka_unit_test(test_precedence),     cmocka_unit_test(test_seed_env_names),
        cmocka_unit_test(test_ini_errors),     cmocka_unit_test(test_ini_long_and_nul_lines),
        cmocka_unit_test(test_missing_files),  cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_set_errors),     cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_size_type),      cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_model_dir),      cmocka_unit_test(test_init_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
