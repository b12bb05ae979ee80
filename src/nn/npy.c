/* nn/npy — NumPy .npy float arrays. The header is a Python dict literal;
 * we write the canonical one and read the three keys NumPy always writes. */
#include "nn/npy.h"

#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

int nn_npy_write(const char *path, const float *data, int rank, const int *dims, ptim_error *err)
{
    char shape[256] = "";
    size_t count = 1, len = 0;
    for (int d = 0; d < rank; d++) {
        len += (size_t)snprintf(shape + len, sizeof shape - len, "%d%s", dims[d],
                                rank == 1 ? "," : d + 1 < rank ? ", " : "");
        count *= (size_t)dims[d];
    }
    char header[512];
    int hl = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }",
                      shape);
    /* Magic (6) + version (2) + length (2) + header, padded with spaces to a
     * multiple of 64 and ended by a newline. */
    int total = 10 + hl + 1;
    int padded = (total + 63) / 64 * 64;
    memset(header + hl, ' ', (size_t)(padded - total));
    header[padded - 10 - 1] = '\n';
    uint16_t hlen = (uint16_t)(padded - 10);
    /* written under NAME.partial and moved into place: a failure never leaves
     * half an array under the name */
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.partial", path) >= (int)sizeof tmp)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: name too long", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(errno));
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, fp) == 10 && fwrite(header, 1, hlen, fp) == hlen &&
             fwrite(data, sizeof(float), count, fp) == count;
    if (fclose(fp) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

static int bad(ptim_error *err, const char *path, const char *why)
{
    return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "%s: %s", path, why);
}

int nn_npy_read(const char *path, float **data, int *rank, int dims[NN_MAX_RANK], size_t *count,
                ptim_error *err)
{
    *data = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return ptim_error_set(err, PTIM_ERR_IO, PTIM_SEV_HIGH, "cannot open %s", path);
    unsigned char pre[12];
    char header[65536];
    size_t hlen;
    int rc = -1;
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        bad(err, path, "not a .npy file");
        goto out;
    }
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, fp) != 2) {
            bad(err, path, "truncated header");
            goto out;
        }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        bad(err, path, "unsupported .npy version");
        goto out;
    }
    if (hlen >= sizeof header || fread(header, 1, hlen, fp) != hlen) {
        bad(err, path, "truncated or oversized header");
        goto out;
    }
    header[hlen] = 0;
    int f64 = 0;
    if (strstr(header, "'<f4'")) {
        f64 = 0;
    } else if (strstr(header, "'<f8'")) {
        f64 = 1;
    } else {
        bad(err, path, "array is not little-endian float32 or float64");
        goto out;
    }
    const char *fo = strstr(header, "'fortran_order':");
    if (!fo || strncmp(fo + 16 + strspn(fo + 16, " "), "False", 5) != 0) {
        bad(err, path, "array is in Fortran order");
        goto out;
    }
    const char *sh = strstr(header, "'shape':");
    const char *open = sh ? strchr(sh, '(') : NULL;
    if (!open) {
        bad(err, path, "header has no shape");
        goto out;
    }
    long d[16];
    int nd = 0;
    const char *p = open + 1;
    for (;;) {
        p += strspn(p, " ,");
        if (*p == ')')
            break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > (1L << 28) || nd == 16) {
            bad(err, path, "header has a malformed shape");
            goto out;
        }
        d[nd++] = v;
        p = end;
    }
    /* Drop leading unit dimensions beyond the rank we keep. */
    int first = 0;
    while (nd - first > NN_MAX_RANK && d[first] == 1)
        first++;
    if (nd - first > NN_MAX_RANK) {
        bad(err, path, "array has more than 4 dimensions");
        goto out;
    }
    size_t n = 1;
    for (int k = first; k < nd; k++) {
        n *= (size_t)d[k];
        if (n > ((size_t)1 << 28)) {
            bad(err, path, "array is too large");
            goto out;
        }
    }
    *rank = nd - first;
    for (int k = first; k < nd; k++)
        dims[k - first] = (int)d[k];
    *count = n;
    *data = malloc(n ? n * sizeof(float) : 1);
    if (!*data) {
        ptim_error_set(err, PTIM_ERR_MEMORY, PTIM_SEV_HIGH, "%s: out of memory", path);
        goto out;
    }
    if (f64) {
        for (size_t k = 0; k < n; k++) {
            double v;
            if (fread(&v, 8, 1, fp) != 1) {
                bad(err, path, "data is truncated");
                goto out;
            }
            (*data)[k] = (float)v;
        }
    } else if (fread(*data, sizeof(float), n, fp) != n) {
        bad(err, path, "data is truncated");
        goto out;
    }
    rc = 0;
out:
    if (rc) {
        free(*data);
        *data = NULL;
    }
    fclose(fp);
    return rc;
}
