/*
 * osap-modelc: compile an OSAP thing model.
 *
 *   osap-modelc MODEL.osm -o DIR [-I DIR]...
 *
 * writes DIR/<name>.json (the compiled model the platform loads),
 * DIR/<name>.profile.json (the profile document devices fetch),
 * DIR/<name>.h (C header for firmware) and DIR/<name>.md (documentation).
 * Exit status: 0 success, 1 errors in the model, 2 usage or I/O errors.
 */
#include "osap/alloc.h"
#include "osap/err.h"
#include "osap/model.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INCLUDES 64

enum { EXIT_MODEL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
    fprintf(f, "usage: osap-modelc MODEL.osm -o DIR [-I DIR]...\n"
               "\n"
               "Compile an OSAP thing model. Writes into DIR:\n"
               "  NAME.json          the compiled model (loaded by the platform)\n"
               "  NAME.profile.json  the thing-model profile devices fetch\n"
               "  NAME.h             a C header for device firmware\n"
               "  NAME.md            documentation\n"
               "\n"
               "  -o DIR   output directory (created if missing)\n"
               "  -I DIR   search DIR for extended templates (NAME.osm); repeatable.\n"
               "           Afterwards the directory of the extending file and its\n"
               "           models/ subdirectory are searched.\n"
               "\n"
               "Exit status: 0 success, 1 errors in the model, 2 usage or I/O errors.\n");
}

/* Write @p text to DIR/NAME+SUFFIX through a temporary file and rename. */
static int write_output(const char *dir, const char *name, const char *suffix, const char *text)
{
    char path[4096], tmp[4200];
    int ok = 0;
    snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix);
    snprintf(tmp, sizeof(tmp), "%s/.%s%s.tmp", dir, name, suffix);
    FILE *f = fopen(tmp, "wb");
    if (!f) goto fail;
    size_t n = strlen(text);
    if (fwrite(text, 1, n, f) != n) goto fail_close;
    if (n && text[n - 1] != '\n' && fputc('\n', f) == EOF) goto fail_close;
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    f = NULL;
    if (rename(tmp, path) != 0) goto fail;
    ok = 1;
    return ok;
fail_close:
    fclose(f);
fail:
    fprintf(stderr, "osap-modelc: cannot write %s: %s\n", path, strerror(errno));
    unlink(tmp);
    return ok;
}

int main(int argc, char **argv)
{
    const char *out_dir = NULL;
    const char *includes[MAX_INCLUDES];
    size_t n_includes = 0;
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "o:I:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'I':
            if (n_includes == MAX_INCLUDES) {
                fprintf(stderr, "osap-modelc: at most %d -I directories\n", MAX_INCLUDES);
                return EXIT_USAGE;
            }
            includes[n_includes++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !out_dir) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *input = argv[optind];

    char err[1024];
    osap_model_t *m = NULL;
    osap_err rc = osap_model_load_file(input, includes, n_includes, &m, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "%s\n", err[0] ? err : osap_strerror(rc));
        return (rc >= 700 && rc <= 799) ? EXIT_MODEL : EXIT_USAGE;
    }

    int status = 0;
    char *json = NULL, *profile = NULL, *header = NULL, *doc = NULL;
    if ((rc = osap_model_to_json(m, &json)) || (rc = osap_model_to_profile(m, &profile)) ||
        (rc = osap_model_to_markdown(m, &doc))) {
        fprintf(stderr, "osap-modelc: %s\n", osap_strerror(rc));
        status = EXIT_USAGE;
        goto out;
    }
    if ((rc = osap_model_to_c_header(m, &header, err, sizeof(err)))) {
        fprintf(stderr, "%s: %s\n", input, err[0] ? err : osap_strerror(rc));
        status = rc == OSAP_ENOMEM ? EXIT_USAGE : EXIT_MODEL;
        goto out;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "osap-modelc: cannot create %s: %s\n", out_dir, strerror(errno));
        status = EXIT_USAGE;
        goto out;
    }
    const char *name = osap_model_name(m);
    if (!write_output(out_dir, name, ".json", json) ||
        !write_output(out_dir, name, ".profile.json", profile) ||
        !write_output(out_dir, name, ".h", header) || !write_output(out_dir, name, ".md", doc))
        status = EXIT_USAGE;
out:
    osap_free(json);
    osap_free(profile);
    osap_free(header);
    osap_free(doc);
    osap_model_free(m);
    return status;
}
