/* Compiled kernels of gutstride, built at install (setup.py ext_modules) so that no JIT runs while a user waits.
 *
 * Arrays come in through the buffer protocol (numpy arrays, bytes), so the module needs no numpy headers.
 * Every kernel releases the GIL while it runs.
 *
 * - fit_crc16, fit_scan, fit_resolve_compressed: the FIT decoder's loops (gutstride.ingest.activities.fit).
 * - fit_inspect: the summary `inspect` prints of a well-formed FIT file, in one pass (...activities.fit_inspect).
 * - hr_clean, hr_zones, weighted_mean: one-pass loops over a session's samples (gutstride.analysis.training).
 * - rarefy_rows: subsampling without replacement (gutstride.analysis.microbiome.rarefy).
 * - min_sums_tiles, minsum_finish: sums of element-wise minima of CSR rows, and the distances made of them
 *   (gutstride.analysis.microbiome._pairwise).
 * - format_rows / parse_rows: distance-matrix TSV text, written as Python's repr and scikit-bio write it
 *   (gutstride.report.research_export), read into a preallocated array (gutstride.ingest.microbiome.distance_matrix).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* ------------------------------------------------------------------------------------------------- helpers */

static int check_buffer(Py_buffer *b, Py_ssize_t itemsize, Py_ssize_t min_items, const char *name) {
    if (b->len % itemsize != 0 || b->len / itemsize < min_items) {
        PyErr_Format(PyExc_ValueError, "%s: expected at least %zd items of %zd bytes", name, min_items, itemsize);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------- FIT */

/* The FIT CRC-16 of buf[start:stop], eight bytes per step with tables t[8][256] ("slicing by 8"). */
static PyObject *fit_crc16(PyObject *self, PyObject *args) {
    Py_buffer buf, tab;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "y*nny*", &buf, &start, &stop, &tab)) return NULL;
    if (check_buffer(&tab, 8, 8 * 256, "crc tables") < 0 || start < 0 || stop > buf.len || start > stop) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "crc range out of the buffer");
        PyBuffer_Release(&buf);
        PyBuffer_Release(&tab);
        return NULL;
    }
    const uint8_t *b = (const uint8_t *)buf.buf;
    const int64_t *t = (const int64_t *)tab.buf;
    int64_t crc = 0;
    Py_ssize_t i = start;
    Py_BEGIN_ALLOW_THREADS
    for (; i + 8 <= stop; i += 8) {
        crc ^= (int64_t)b[i] | ((int64_t)b[i + 1] << 8);
        crc = t[7 * 256 + (crc & 0xFF)] ^ t[6 * 256 + (crc >> 8)] ^ t[5 * 256 + b[i + 2]] ^ t[4 * 256 + b[i + 3]]
              ^ t[3 * 256 + b[i + 4]] ^ t[2 * 256 + b[i + 5]] ^ t[1 * 256 + b[i + 6]] ^ t[b[i + 7]];
    }
    for (; i < stop; i++) crc = (crc >> 8) ^ t[(crc ^ b[i]) & 0xFF];
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    PyBuffer_Release(&tab);
    return PyLong_FromLongLong(crc);
}

/* Walk data messages from pos; stop at a definition (1), an undefined local type (2), a cut-off message (3), full
 * outputs (4) or the end (0). Returns (n, pos, reason). */
static PyObject *fit_scan(PyObject *self, PyObject *args) {
    Py_buffer buf, sizes_b, ids_b, off_b, did_b, cts_b;
    Py_ssize_t pos, end, n;
    if (!PyArg_ParseTuple(args, "y*nny*y*w*w*w*n", &buf, &pos, &end, &sizes_b, &ids_b, &off_b, &did_b, &cts_b, &n))
        return NULL;
    PyObject *result = NULL;
    if (check_buffer(&sizes_b, 8, 16, "sizes") < 0 || check_buffer(&ids_b, 8, 16, "ids") < 0
        || check_buffer(&off_b, 8, 0, "off") < 0 || check_buffer(&did_b, 8, off_b.len / 8, "did") < 0
        || check_buffer(&cts_b, 1, off_b.len / 8, "cts") < 0 || end > buf.len || pos < 0 || n < 0)
        goto done;
    {
        const uint8_t *b = (const uint8_t *)buf.buf;
        const int64_t *sizes = (const int64_t *)sizes_b.buf, *ids = (const int64_t *)ids_b.buf;
        int64_t *off = (int64_t *)off_b.buf, *did = (int64_t *)did_b.buf;
        int8_t *cts = (int8_t *)cts_b.buf;
        Py_ssize_t cap = off_b.len / 8;
        int reason = 0;
        Py_BEGIN_ALLOW_THREADS
        while (pos < end) {
            if (n >= cap) { reason = 4; break; }
            uint8_t h = b[pos];
            int loc, t;
            if (h & 0x80) { loc = (h >> 5) & 0x3; t = h & 0x1F; }
            else if (h & 0x40) { reason = 1; break; }
            else { loc = h & 0xF; t = -1; }
            int64_t size = sizes[loc];
            if (size < 0) { reason = 2; break; }
            if (pos + 1 + size > end) { reason = 3; break; }
            off[n] = pos + 1;
            did[n] = ids[loc];
            cts[n] = (int8_t)t;
            n++;
            pos += 1 + size;
        }
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("nni", n, pos, reason);
    }
done:
    PyBuffer_Release(&buf); PyBuffer_Release(&sizes_b); PyBuffer_Release(&ids_b);
    PyBuffer_Release(&off_b); PyBuffer_Release(&did_b); PyBuffer_Release(&cts_b);
    return result;
}

/* Fill the times (int64, -1 = none) of compressed-timestamp messages (cts >= 0) from the last full timestamp. */
static PyObject *fit_resolve_compressed(PyObject *self, PyObject *args) {
    Py_buffer ts_b, cts_b;
    if (!PyArg_ParseTuple(args, "w*y*", &ts_b, &cts_b)) return NULL;
    if (check_buffer(&ts_b, 8, 0, "ts") < 0 || check_buffer(&cts_b, 1, ts_b.len / 8, "cts") < 0) {
        PyBuffer_Release(&ts_b); PyBuffer_Release(&cts_b);
        return NULL;
    }
    int64_t *ts = (int64_t *)ts_b.buf;
    const int8_t *cts = (const int8_t *)cts_b.buf;
    Py_ssize_t count = ts_b.len / 8;
    int64_t last = -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (cts[i] >= 0) {
            if (last >= 0) {
                int64_t t = (last & ~(int64_t)0x1F) + cts[i];
                if (cts[i] < (last & 0x1F)) t += 0x20;
                ts[i] = t;
                last = t;
            }
        } else if (ts[i] >= 0) {
            last = ts[i];
        }
    }
    PyBuffer_Release(&ts_b); PyBuffer_Release(&cts_b);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------------------------------- FIT summary */

/* What `gutstride inspect` prints of one FIT file, in one pass and without numpy (fit_inspect below). It covers the
 * common case only, well-formed FIT files (chained, or followed by zero bytes): anything else (other trailing
 * bytes, compressed timestamps, a cut-off or corrupt message, compressed_speed_distance not stored as bytes, float heart rates)
 * returns None, and the caller decodes the file with the full decoder (gutstride.ingest.activities.fit), whose
 * results the values here equal: each field is its first element, read as the decoder reads it
 * (_raw_field then _scaled: invalid sentinels are NaN, value = raw / scale - offset). */

#define FI_MAX_FIELDS 8
enum { FI_FILE_ID, FI_SPORT, FI_SESSION, FI_RECORD, FI_KINDS };
static const int fi_global[FI_KINDS] = {0, 12, 18, 20};

typedef struct { int num; double scale, offset; } fi_want;
typedef struct { int pos, size, base; } fi_where;          /* pos -1: the field is not in the definition */
typedef struct {
    int defined, kind, big;                                 /* kind: FI_* or -1 (message not read) */
    Py_ssize_t size;
    fi_where field[FI_MAX_FIELDS], ts;
} fi_def;

/* name class, size and invalid raw value of the FIT base types 0..16 (fit_profile.BASE_TYPES) */
enum { FI_U, FI_S, FI_F, FI_BYTE, FI_STR };
static const struct { int cls, size; uint64_t invalid; int has_invalid; } fi_base[17] = {
    {FI_U, 1, 0xFF, 1}, {FI_S, 1, 0x7F, 1}, {FI_U, 1, 0xFF, 1}, {FI_S, 2, 0x7FFF, 1}, {FI_U, 2, 0xFFFF, 1},
    {FI_S, 4, 0x7FFFFFFF, 1}, {FI_U, 4, 0xFFFFFFFF, 1}, {FI_STR, 1, 0, 0}, {FI_F, 4, 0, 0}, {FI_F, 8, 0, 0},
    {FI_U, 1, 0, 1}, {FI_U, 2, 0, 1}, {FI_U, 4, 0, 1}, {FI_BYTE, 1, 0xFF, 1}, {FI_S, 8, 0x7FFFFFFFFFFFFFFFULL, 1},
    {FI_U, 8, 0xFFFFFFFFFFFFFFFFULL, 1}, {FI_U, 8, 0, 1},
};

/* The first element of a field as the full decoder gives it (NaN when invalid or absent); scaled unless read as
 * bytes. `where.base` is the base type byte & 0x1F. */
static double fi_value(const uint8_t *msg, fi_where where, int big, double scale, double offset, int scaled) {
    if (where.pos < 0 || where.size == 0) return NAN;
    int base = where.base;
    if (base == 7 && scaled) return NAN;                    /* a wanted string field is not a number */
    int known = base <= 16 ? base : 13, t = known;
    if (where.size % fi_base[t].size) t = 13;               /* odd size: read as bytes, unscaled */
    int apply_scale = scaled && base != 13 && where.size % fi_base[known].size == 0;
    const uint8_t *p = msg + where.pos;
    double value;
    if (t == 13 || fi_base[t].cls == FI_BYTE) {
        value = (double)p[0];                               /* bytes carry no sentinel */
    } else {
        int n = fi_base[t].size;
        uint64_t raw = 0;
        for (int i = 0; i < n; i++) raw |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
        switch (fi_base[t].cls) {
        case FI_F:
            if (n == 4) { float f; uint32_t r32 = (uint32_t)raw; memcpy(&f, &r32, 4); value = (double)f; }
            else memcpy(&value, &raw, 8);
            if (!isfinite(value)) return NAN;
            break;
        case FI_S:
            if (fi_base[t].has_invalid && raw == fi_base[t].invalid) return NAN;
            value = n == 1 ? (double)(int8_t)raw : n == 2 ? (double)(int16_t)raw
                  : n == 4 ? (double)(int32_t)raw : (double)(int64_t)raw;
            break;
        default:
            if (fi_base[t].has_invalid && raw == fi_base[t].invalid) return NAN;
            value = (double)raw;
        }
    }
    if (apply_scale && !(scale == 1.0 && offset == 0.0)) value = value / scale - offset;
    return value;
}

/* Parse wanted field specs: a tuple of FI_KINDS tuples of (field number, scale, offset). */
static int fi_parse_spec(PyObject *spec, fi_want want[FI_KINDS][FI_MAX_FIELDS], int count[FI_KINDS]) {
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != FI_KINDS) goto bad;
    for (int k = 0; k < FI_KINDS; k++) {
        PyObject *fields = PyTuple_GET_ITEM(spec, k);
        if (!PyTuple_Check(fields) || PyTuple_GET_SIZE(fields) > FI_MAX_FIELDS) goto bad;
        count[k] = (int)PyTuple_GET_SIZE(fields);
        for (int i = 0; i < count[k]; i++) {
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(fields, i), "idd", &want[k][i].num, &want[k][i].scale,
                                  &want[k][i].offset))
                return -1;
        }
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "fit_inspect: spec must be 4 tuples of (field, scale, offset)");
    return -1;
}

/* One FIT file of a chain: its data at b[pos:end]. Returns the segment's tuple (see fit_inspect), Py_None when it
 * is not the common case, or NULL with an exception. Local message types start undefined in every segment. */
static PyObject *fi_segment(const uint8_t *b, Py_ssize_t pos, Py_ssize_t end, fi_want want[FI_KINDS][FI_MAX_FIELDS],
                            const int count[FI_KINDS]) {
    PyObject *rows[3] = {NULL, NULL, NULL}, *result = NULL;
    for (int k = 0; k < 3; k++) if (!(rows[k] = PyList_New(0))) goto done;
    fi_def defs[16];
    memset(defs, 0, sizeof defs);
    Py_ssize_t n_records = 0, n_hr = 0;
    double hr_sum = 0.0, hr_max = NAN, dist_max = NAN;
    int64_t t_min = -1, t_max = -1;
    int64_t csd_first = -1, csd_prev = 0, csd_sum = 0;       /* compressed_speed_distance: distance in 1/16 m */
    while (pos < end) {
        uint8_t h = b[pos];
        if (h & 0x80) goto common_case_not;                 /* compressed timestamp header */
        int loc = h & 0xF;
        if (h & 0x40) {                                     /* definition message */
            if (pos + 6 > end || b[pos + 2] > 1) goto common_case_not;
            int nf = b[pos + 5];
            Py_ssize_t p = pos + 6 + 3 * (Py_ssize_t)nf, dev_size = 0;
            if (p > end) goto common_case_not;
            if (h & 0x20) {
                if (p + 1 > end) goto common_case_not;
                int nd = b[p];
                if (p + 1 + 3 * (Py_ssize_t)nd > end) goto common_case_not;
                for (int i = 0; i < nd; i++) dev_size += b[p + 1 + 3 * i + 1];
                p += 1 + 3 * (Py_ssize_t)nd;
            }
            fi_def *d = &defs[loc];
            int big = b[pos + 2];
            int global = big ? (b[pos + 3] << 8 | b[pos + 4]) : (b[pos + 4] << 8 | b[pos + 3]);
            d->defined = 1;
            d->big = big;
            d->kind = -1;
            for (int k = 0; k < FI_KINDS; k++) if (fi_global[k] == global) d->kind = k;
            d->ts.pos = -1;
            for (int i = 0; i < FI_MAX_FIELDS; i++) d->field[i].pos = -1;
            Py_ssize_t at = 0;
            for (int i = 0; i < nf; i++) {
                const uint8_t *f = b + pos + 6 + 3 * i;
                fi_where where = {(int)at, f[1], f[2] & 0x1F};
                if (f[0] == 253 && d->ts.pos < 0) d->ts = where;  /* the first of a repeated field wins */
                if (d->kind >= 0)
                    for (int j = 0; j < count[d->kind]; j++)
                        if (want[d->kind][j].num == f[0] && d->field[j].pos < 0) d->field[j] = where;
                at += f[1];
            }
            d->size = at + dev_size;
            if (d->kind == FI_RECORD) {
                fi_where csd = d->field[2];
                if (csd.pos >= 0 && csd.size >= 3 && csd.base != 13)
                    goto common_case_not;                   /* compressed_speed_distance not stored as bytes */
                fi_where hr = d->field[0];
                if (hr.pos >= 0 && hr.size && hr.base <= 16 && fi_base[hr.base].cls == FI_F
                    && hr.size % fi_base[hr.base].size == 0)
                    goto common_case_not;                   /* float heart rates: their sum depends on order */
            }
            pos = p;
            continue;
        }
        fi_def *d = &defs[loc];
        if (!d->defined || pos + 1 + d->size > end) goto common_case_not;
        const uint8_t *msg = b + pos + 1;
        pos += 1 + d->size;
        if (d->kind < 0) continue;
        if (d->kind == FI_RECORD) {
            n_records++;
            double hr = fi_value(msg, d->field[0], d->big, want[FI_RECORD][0].scale, want[FI_RECORD][0].offset, 1);
            if (isfinite(hr) && hr > 0) {
                n_hr++;
                hr_sum += hr;
                if (!(hr <= hr_max)) hr_max = hr;
            }
            /* compressed_speed_distance (3 bytes: speed in 12 bits, then distance in 12 bits, accumulated modulo
             * 4096) stands in for a missing distance, as in the full decoder (_expand_speed_distance, _prefer). */
            double csd_dist = NAN;
            fi_where csd = d->field[2];
            if (csd.pos >= 0 && csd.size >= 3) {
                const uint8_t *q = msg + csd.pos;
                if (!(q[0] == 255 && q[1] == 255 && q[2] == 255)) {
                    int64_t raw = (int64_t)(q[1] >> 4) | ((int64_t)q[2] << 4);
                    if (csd_first < 0) csd_first = csd_sum = raw;
                    else csd_sum += ((raw - csd_prev) % 4096 + 4096) % 4096;
                    csd_prev = raw;
                    csd_dist = (double)csd_sum / 16.0;
                }
            }
            double dist = fi_value(msg, d->field[1], d->big, want[FI_RECORD][1].scale, want[FI_RECORD][1].offset, 1);
            if (!isfinite(dist)) dist = csd_dist;
            if (isfinite(dist) && !(dist <= dist_max)) dist_max = dist;
            if (d->ts.pos >= 0 && d->ts.size == 4) {
                double t = fi_value(msg, d->ts, d->big, 1.0, 0.0, 0);
                if (isfinite(t) && t > -1.0 && t < 9.2e18) {  /* else numpy's cast gives a negative: none */
                    int64_t ti = (int64_t)t;
                    if (ti >= 0x10000000) {
                        if (t_min < 0 || ti < t_min) t_min = ti;
                        if (ti > t_max) t_max = ti;
                    }
                }
            }
            continue;
        }
        PyObject *row = PyTuple_New(count[d->kind]);
        if (!row) goto done;
        for (int j = 0; j < count[d->kind]; j++) {
            PyObject *v = PyFloat_FromDouble(fi_value(msg, d->field[j], d->big, want[d->kind][j].scale,
                                                      want[d->kind][j].offset, 1));
            if (!v) { Py_DECREF(row); goto done; }
            PyTuple_SET_ITEM(row, j, v);
        }
        int failed = PyList_Append(rows[d->kind], row);
        Py_DECREF(row);
        if (failed) goto done;
    }
    {
        PyObject *tmin = t_min < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(t_min);
        PyObject *tmax = t_max < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(t_max);
        if (tmin && tmax)
            result = Py_BuildValue("OOOnnddOOd", rows[0], rows[1], rows[2], n_records, n_hr, hr_sum, hr_max, tmin,
                                   tmax, dist_max);
        Py_XDECREF(tmin);
        Py_XDECREF(tmax);
    }
    goto done;
common_case_not:
    result = Py_NewRef(Py_None);
done:
    for (int k = 0; k < 3; k++) Py_XDECREF(rows[k]);
    return result;
}

/* fit_inspect(data, spec) -> None (not the common case: use the full decoder) or a list with, for each FIT file
 * of the chain, (file_id rows, sport rows, session rows, n_records, n_hr, hr_sum, hr_max, t_min, t_max,
 * distance_max). spec: for file_id, sport, session and record, the (field number, scale, offset) to read; rows are
 * tuples of those fields' values per message, in file order. For records the spec fields are (heart_rate,
 * distance, compressed_speed_distance): heart rates above 0 are counted, summed and their maximum kept (NaN if
 * none); t_min / t_max are the smallest and largest record timestamp (FIT seconds) at or above 0x10000000 (None if
 * none), distance_max the largest distance (NaN if none). Zero bytes after the last file end the chain, as in the
 * full decoder; CRCs are not checked (a mismatch is only a warning there, which inspect does not print). */
static PyObject *fit_inspect(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *spec;
    if (!PyArg_ParseTuple(args, "y*O", &buf, &spec)) return NULL;
    fi_want want[FI_KINDS][FI_MAX_FIELDS];
    int count[FI_KINDS];
    PyObject *segments = NULL;
    if (fi_parse_spec(spec, want, count) < 0) goto done;
    if (count[FI_RECORD] != 3) { PyErr_SetString(PyExc_ValueError, "fit_inspect: record spec needs 3 fields"); goto done; }
    if (!(segments = PyList_New(0))) goto done;
    const uint8_t *b = (const uint8_t *)buf.buf;
    Py_ssize_t len = buf.len, start = 0;
    while (start < len) {
        if (start) {
            Py_ssize_t i = start;
            while (i < len && b[i] == 0) i++;
            if (i == len) break;                            /* zero padding after the chain */
        }
        Py_ssize_t avail = len - start;
        if (avail < 12 || b[start] < 12 || b[start] > avail || memcmp(b + start + 8, ".FIT", 4) != 0)
            goto common_case_not;
        Py_ssize_t end = start + b[start] + (Py_ssize_t)((uint32_t)b[start + 4] | (uint32_t)b[start + 5] << 8
                                                         | (uint32_t)b[start + 6] << 16 | (uint32_t)b[start + 7] << 24);
        if (end + 2 > len) goto common_case_not;            /* cut off, or the file CRC missing */
        PyObject *segment = fi_segment(b, start + b[start], end, want, count);
        if (!segment) { Py_CLEAR(segments); goto done; }
        if (segment == Py_None) { Py_DECREF(segment); goto common_case_not; }
        int failed = PyList_Append(segments, segment);
        Py_DECREF(segment);
        if (failed) { Py_CLEAR(segments); goto done; }
        start = end + 2;
    }
    goto done;
common_case_not:
    Py_XSETREF(segments, Py_NewRef(Py_None));
done:
    PyBuffer_Release(&buf);
    return segments;
}

/* ------------------------------------------------------------------------------------------------- pairwise */

/* out[i - start, j - start] = sum_k min(X[i, k], X[j, k]) for i in each tile [t, min(t + tile, stop)) and j > i.
 * The tile's rows are scattered into a dense (n_cols x tile) buffer; each later row j is read once for the whole
 * tile, each of its non-zeros updating the tile's running sums together. Tiles run in parallel (OpenMP). */
static PyObject *min_sums_tiles(PyObject *self, PyObject *args) {
    Py_buffer ip_b, ix_b, d_b, ts_b, out_b;
    Py_ssize_t n_cols, tile, stop, start;
    if (!PyArg_ParseTuple(args, "y*y*y*ny*nnnw*", &ip_b, &ix_b, &d_b, &n_cols, &ts_b, &tile, &stop, &start, &out_b))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n_rows = ip_b.len / 8 - 1;
    if (check_buffer(&ip_b, 8, 1, "indptr") < 0 || check_buffer(&ix_b, 8, 0, "indices") < 0
        || check_buffer(&d_b, 8, ix_b.len / 8, "data") < 0 || check_buffer(&ts_b, 8, 0, "tile_starts") < 0
        || check_buffer(&out_b, 8, (stop - start) * (n_rows - start), "out") < 0 || tile < 1 || tile > 64)
        goto done;
    {
        const int64_t *indptr = (const int64_t *)ip_b.buf, *indices = (const int64_t *)ix_b.buf;
        const int64_t *tile_starts = (const int64_t *)ts_b.buf;
        const double *data = (const double *)d_b.buf;
        double *out = (double *)out_b.buf;
        Py_ssize_t n_tiles = ts_b.len / 8, width = n_rows - start;
        int failed = 0;
        Py_BEGIN_ALLOW_THREADS
        #pragma omp parallel for schedule(dynamic, 1)
        for (Py_ssize_t b = 0; b < n_tiles; b++) {
            Py_ssize_t i0 = tile_starts[b];
            Py_ssize_t m = (i0 + tile < stop ? i0 + tile : stop) - i0;
            double *buf = calloc((size_t)n_cols * tile, sizeof(double));
            double acc[64];
            if (!buf) { failed = 1; continue; }
            for (Py_ssize_t r = 0; r < m; r++)
                for (int64_t p = indptr[i0 + r]; p < indptr[i0 + r + 1]; p++) buf[indices[p] * tile + r] = data[p];
            for (Py_ssize_t j = i0 + 1; j < n_rows; j++) {
                for (Py_ssize_t r = 0; r < tile; r++) acc[r] = 0.0;
                for (int64_t p = indptr[j]; p < indptr[j + 1]; p++) {
                    const double v = data[p];
                    const double *x = buf + indices[p] * tile;
                    for (Py_ssize_t r = 0; r < tile; r++) acc[r] += x[r] < v ? x[r] : v;
                }
                Py_ssize_t upto = m < j - i0 ? m : j - i0;
                for (Py_ssize_t r = 0; r < upto; r++) out[(i0 + r - start) * width + (j - start)] = acc[r];
            }
            free(buf);
        }
        Py_END_ALLOW_THREADS
        if (failed) PyErr_NoMemory();
        else result = Py_NewRef(Py_None);
    }
done:
    PyBuffer_Release(&ip_b); PyBuffer_Release(&ix_b); PyBuffer_Release(&d_b);
    PyBuffer_Release(&ts_b); PyBuffer_Release(&out_b);
    return result;
}

/* minsum_finish(m, sums, start, stop, mode, result, single): the distances of rows start..stop of a square matrix
 * from m (float64, (stop - start) x (n - start), m[i - start, j - start] = m(x_i, x_j) for j > i) and the row sums
 * s (float64, n), written to result[i, j] and result[j, i] for every j > i (result: n x n, float64 or, when single,
 * float32; the diagonal and the other pairs are left alone). With a = max(s_i + s_j - 2 m, 0):
 * mode 0: a; mode 1: a / (s_i + s_j); mode 2: a / ((s_i + s_j + a) / 2) = a / (s_i + s_j - m); a ratio whose
 * denominator is not positive stays a (0, for two empty rows). The arithmetic is numpy's, in the same order, so the
 * values are those of the array expressions in gutstride.analysis.microbiome._pairwise. Tiles of 64 x 64 pairs run
 * in parallel (OpenMP), each writing its pairs and their mirror images. */
static PyObject *minsum_finish(PyObject *self, PyObject *args) {
    Py_buffer m_b, s_b, r_b;
    Py_ssize_t start, stop;
    int mode, single;
    if (!PyArg_ParseTuple(args, "y*y*nniw*p", &m_b, &s_b, &start, &stop, &mode, &r_b, &single)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = s_b.len / 8, width = n - start;
    if (check_buffer(&s_b, 8, 0, "sums") < 0 || start < 0 || stop < start || stop > n || mode < 0 || mode > 2
        || check_buffer(&m_b, 8, (stop - start) * width, "m") < 0
        || check_buffer(&r_b, single ? 4 : 8, n * n, "result") < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "minsum_finish: rows or mode out of range");
        goto done;
    }
    {
        const double *m = m_b.buf, *sums = s_b.buf;
        double *out64 = r_b.buf;
        float *out32 = r_b.buf;
        const Py_ssize_t T = 64, n_col_tiles = (width + T - 1) / T;
        Py_BEGIN_ALLOW_THREADS
        #pragma omp parallel for schedule(dynamic, 1)
        for (Py_ssize_t ct = 0; ct < n_col_tiles; ct++) {
            Py_ssize_t j0 = start + ct * T, j1 = j0 + T < n ? j0 + T : n;
            for (Py_ssize_t i0 = start; i0 < stop && i0 < j1 - 1; i0 += T) {
                Py_ssize_t i1 = i0 + T < stop ? i0 + T : stop;
                for (Py_ssize_t i = i0; i < i1; i++) {
                    const double *mi = m + (i - start) * width - start, si = sums[i];
                    for (Py_ssize_t j = (j0 > i + 1 ? j0 : i + 1); j < j1; j++) {
                        double total = si + sums[j], a = total + -2.0 * mi[j];
                        if (a < 0.0) a = 0.0;
                        double den = mode == 2 ? (total + a) * 0.5 : total;
                        double v = mode && den > 0 ? a / den : a;
                        if (single) { out32[i * n + j] = (float)v; out32[j * n + i] = (float)v; }
                        else { out64[i * n + j] = v; out64[j * n + i] = v; }
                    }
                }
            }
        }
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
done:
    PyBuffer_Release(&m_b); PyBuffer_Release(&s_b); PyBuffer_Release(&r_b);
    return result;
}

/* ------------------------------------------------------------------------------------------------- TSV text */

typedef unsigned __int128 u128;

static const uint64_t POW10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL,
    10000000000000000000ULL};

/* 5^0 .. 5^27 (5^27 < 2^63) */
static const uint64_t POW5[28] = {1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL, 390625ULL,
    1953125ULL, 9765625ULL, 48828125ULL, 244140625ULL, 1220703125ULL, 6103515625ULL, 30517578125ULL,
    152587890625ULL, 762939453125ULL, 3814697265625ULL, 19073486328125ULL, 95367431640625ULL, 476837158203125ULL,
    2384185791015625ULL, 11920928955078125ULL, 59604644775390625ULL, 298023223876953125ULL,
    1490116119384765625ULL, 7450580596923828125ULL};

/* 10^-5 .. 10^16 as doubles (the nearest double: a first guess of the decimal exponent, settled exactly below) */
static const double POW10_DOUBLE[22] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
    1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16};

static const char DIGIT_PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The p (<= 19) decimal digits of v < 10^p, leading zeros included, two at a time. */
static void write_digits(uint64_t v, int p, char *digits) {
    int k = p;
    if (k > 8) {  /* the low 8 digits in 32-bit arithmetic */
        uint32_t low = (uint32_t)(v % 100000000U);
        v /= 100000000U;
        for (int t = 0; t < 4; t++) { k -= 2; memcpy(digits + k, DIGIT_PAIRS + 2 * (low % 100), 2); low /= 100; }
    }
    for (; k >= 2; v /= 100) { k -= 2; memcpy(digits + k, DIGIT_PAIRS + 2 * (v % 100), 2); }
    if (k) digits[0] = (char)('0' + v);
}

/* The shortest decimal that reads back to x > 0, written as Python's repr writes it (fixed notation), for
 * 1e-4 <= x < 1e15 (float32: < 1e6); returns its length, or -1 when the caller must use the general path (other
 * ranges, a power of two, an exact tie in rounding).
 *
 * With x = m 2^e exactly (m < 2^b, b = 53 or 24 bits, read from the IEEE fields), the decimal with p significant
 * digits nearest to x is q = round(m 5^s / 2^D) with s = p - 1 - E (E = floor(log10 x)) and D = -(s + e), all in
 * exact integers (m 5^s < 2^116; q and the remainder fit in 64 bits); q 10^-s reads back to x when it lies within
 * half a unit in the last place, i.e. 2 |q 2^D - m 5^s| < 5^s. The smallest p from DBL_DIG (FLT_DIG) up that reads
 * back gives the shortest digits (any shorter decimal that reads back lies on the p-digit grid and is the nearest
 * point of it), and the nearest one among them, as Python's repr. E is guessed from the binary exponent and a table
 * of powers of ten, then settled exactly on the longest p (floor(m 5^s / 2^D) has p digits exactly when
 * 10^E <= x < 10^(E+1), whatever p). Every p is then tried without an early exit, longest first, the last that reads
 * back winning (no branch to mispredict), and its digits are written as q 10^(pmax - p) with the trailing zeros cut.
 * A tie (m 5^s / 2^D exactly halfway) at the chosen p or a shorter one sends x to the general path, as before. */
static inline __attribute__((always_inline)) Py_ssize_t shortest_fixed(double x, const int single, char *dst) {
    const int bits = single ? 24 : 53, pmin = single ? 6 : 15, pmax = single ? 9 : 17;
    if (!(x >= 1e-4 && x < (single ? 1e6 : 1e15))) return -1;
    uint64_t raw;
    memcpy(&raw, &x, sizeof raw);
    int e2 = (int)(raw >> 52) - 1022;  /* x = f 2^e2 with 0.5 <= f < 1 (x is normal here) */
    uint64_t m = (raw & ((1ULL << 52) - 1)) | (1ULL << 52);
    if (single) m >>= 29;  /* a float32 value: the low 29 bits of the double's significand are 0 */
    int e = e2 - bits;
    if (m == (1ULL << (bits - 1))) return -1;  /* a power of two: the gap below is half the gap above */
    int E = ((e2 - 1) * 1233) >> 12;  /* floor((e2 - 1) log10 2): 10^E <= 2^(e2 - 1) <= x */
    if (x >= POW10_DOUBLE[E + 6]) E++;
    for (int tries = 0;; tries++) {  /* settle E so that q has pmax digits */
        int s = pmax - 1 - E, D = -(s + e);
        if (tries > 3 || s < 0 || s > 27 || D < 1 || D > 64) return -1;
        u128 A = (u128)m * POW5[s];
        uint64_t q = D == 64 ? (uint64_t)(A >> 64) : (uint64_t)(A >> D);
        if (q < POW10[pmax - 1]) E--;
        else if ((A >> D) >= POW10[pmax]) E++;
        else break;
    }
    if (pmin - 1 - E < 0 || -(pmin - 1 - E + e) > 64) return -1;
    uint64_t best = 0;
    int tie = 0;
    for (int p = pmax; p >= pmin; p--) {
        int s = p - 1 - E, D = -(s + e);
        u128 A = (u128)m * POW5[s];
        uint64_t lo = (uint64_t)A, hi = (uint64_t)(A >> 64);
        uint64_t q = D == 64 ? hi : (hi << (64 - D)) | (lo >> D);
        uint64_t r = D == 64 ? lo : lo & ((1ULL << D) - 1), half = 1ULL << (D - 1);
        uint64_t up = r > half, distance = up ? (D == 64 ? 0 : 1ULL << D) - r : r;  /* |q 2^D - m 5^s| */
        int reads_back = distance <= POW5[s] / 2;  /* 2 distance < 5^s (5^s is odd) */
        best = reads_back ? (q + up) * POW10[pmax - p] : best;
        tie = reads_back ? r == half : tie | (r == half);
    }
    if (!best || tie) return -1;
    int decpt = E + 1;
    if (best == POW10[pmax]) { best = POW10[pmax - 1]; decpt++; }
    char *o = dst;
    if (decpt <= 0) {  /* 0.000ddd: the digits go straight to their place */
        *o++ = '0'; *o++ = '.';
        for (int k = 0; k < -decpt; k++) *o++ = '0';
        write_digits(best, pmax, o);
        int nd = pmax;
        while (nd > 1 && o[nd - 1] == '0') nd--;
        return o + nd - dst;
    }
    write_digits(best, pmax, o + 1);  /* then the integer part moves one place left, before its point */
    int nd = pmax;
    while (nd > 1 && o[nd] == '0') nd--;
    if (decpt < nd) {
        memmove(o, o + 1, (size_t)decpt);
        o[decpt] = '.';
        return o + nd + 1 - dst;
    }
    memmove(o, o + 1, (size_t)pmax);
    for (int k = pmax; k < decpt; k++) o[k] = '0';
    o += decpt;
    *o++ = '.'; *o++ = '0';
    return o - dst;
}

/* format_fast: shortest_fixed for any sign, "0.0" (or "-0.0") for zero; -1 where the general path is needed (no GIL needed). */
static Py_ssize_t format_fast(double x, int single, char *dst) {
    if (x == 0.0) {
        if (signbit(x)) { memcpy(dst, "-0.0", 4); return 4; }
        memcpy(dst, "0.0", 3);
        return 3;
    }
    if (x > 0) return single ? shortest_fixed(x, 1, dst) : shortest_fixed(x, 0, dst);
    Py_ssize_t n = x < 0 ? (single ? shortest_fixed(-x, 1, dst + 1) : shortest_fixed(-x, 0, dst + 1)) : -1;
    if (n < 0) return -1;
    dst[0] = '-';
    return n + 1;
}

/* Shortest text that reads back to x, as Python's repr writes it; for float32 values (single), the shortest that
 * reads back to the same float32 (the general path, through Python's float formatting: needs the GIL). Returns the
 * length written (at most 32), -1 on error. */
static Py_ssize_t format_value(double x, int single, char *dst) {
    Py_ssize_t n = format_fast(x, single, dst);
    if (n >= 0) return n;
    char *text = NULL;
    if (single) {
        for (int digits = 1; digits <= 9; digits++) {
            text = PyOS_double_to_string(x, 'g', digits, Py_DTSF_ADD_DOT_0, NULL);
            if (!text) return -1;
            if (digits == 9 || (float)PyOS_string_to_double(text, NULL, NULL) == (float)x) break;
            PyMem_Free(text);
        }
    } else {
        text = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (!text) return -1;
    }
    Py_ssize_t len = (Py_ssize_t)strlen(text);
    if (len > 32) len = 32;
    memcpy(dst, text, (size_t)len);
    PyMem_Free(text);
    return len;
}

/* One row: "id<TAB>v1<TAB>...<TAB>vn<LF>" into dst; with fast_only, -1 when a value needs the general path. */
static Py_ssize_t format_row(const char *id, Py_ssize_t id_len, const void *rows, Py_ssize_t r, Py_ssize_t n_cols,
                             int single, int fast_only, char *dst) {
    Py_ssize_t pos = id_len;
    memcpy(dst, id, (size_t)id_len);
    for (Py_ssize_t c = 0; c < n_cols; c++) {
        double x = single ? (double)((const float *)rows)[r * n_cols + c] : ((const double *)rows)[r * n_cols + c];
        dst[pos++] = '\t';
        Py_ssize_t len = fast_only ? format_fast(x, single, dst + pos) : format_value(x, single, dst + pos);
        if (len < 0) return -1;
        pos += len;
    }
    dst[pos++] = '\n';
    return pos;
}

/* format_rows(ids: list[bytes], rows: float64 or float32 buffer (n_rows x n_cols, C order), n_cols, single) ->
 * bytes of "id<TAB>v1<TAB>...<TAB>vn<LF>" for each row. Rows are formatted in parallel (OpenMP, without the GIL);
 * the rare row holding a value outside the fast path is then formatted again with the GIL. */
static PyObject *format_rows(PyObject *self, PyObject *args) {
    PyObject *ids;
    Py_buffer rows_b;
    Py_ssize_t n_cols;
    int single;
    if (!PyArg_ParseTuple(args, "O!y*np", &PyList_Type, &ids, &rows_b, &n_cols, &single)) return NULL;
    Py_ssize_t n_rows = PyList_GET_SIZE(ids), item = single ? 4 : 8, max_id = 0;
    PyObject *result = NULL;
    char *out = NULL;
    Py_ssize_t *lengths = NULL;
    const char **id_text = NULL;
    Py_ssize_t *id_len = NULL;
    if (check_buffer(&rows_b, item, n_rows * n_cols, "rows") < 0) goto done;
    id_text = PyMem_Malloc(sizeof(char *) * (size_t)(n_rows + 1));
    id_len = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n_rows + 1));
    lengths = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n_rows + 1));
    if (!id_text || !id_len || !lengths) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        PyObject *id = PyList_GET_ITEM(ids, r);
        if (!PyBytes_Check(id)) { PyErr_SetString(PyExc_TypeError, "ids must be bytes"); goto done; }
        id_text[r] = PyBytes_AS_STRING(id);
        id_len[r] = PyBytes_GET_SIZE(id);
        if (id_len[r] > max_id) max_id = id_len[r];
    }
    Py_ssize_t stride = max_id + n_cols * 33 + 1;  /* a value is at most 32 bytes, after its tab */
    out = PyMem_Malloc((size_t)(stride * (n_rows > 0 ? n_rows : 1)));
    if (!out) { PyErr_NoMemory(); goto done; }
    const void *rows = rows_b.buf;
    Py_BEGIN_ALLOW_THREADS
    #pragma omp parallel for schedule(dynamic, 4)
    for (Py_ssize_t r = 0; r < n_rows; r++)
        lengths[r] = format_row(id_text[r], id_len[r], rows, r, n_cols, single, 1, out + r * stride);
    Py_END_ALLOW_THREADS
    Py_ssize_t total = 0;
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        if (lengths[r] < 0) {
            lengths[r] = format_row(id_text[r], id_len[r], rows, r, n_cols, single, 0, out + r * stride);
            if (lengths[r] < 0) goto done;
        }
        total += lengths[r];
    }
    result = PyBytes_FromStringAndSize(NULL, total);
    if (!result) goto done;
    char *dst = PyBytes_AS_STRING(result);
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        memcpy(dst, out + r * stride, (size_t)lengths[r]);
        dst += lengths[r];
    }
done:
    PyMem_Free(out);
    PyMem_Free(lengths);
    PyMem_Free(id_text);
    PyMem_Free(id_len);
    PyBuffer_Release(&rows_b);
    return result;
}

/* parse_rows(body: bytes, n: int, out: writable float64 buffer of n * n, row0: int, final: bool)
 * -> (ids: list[bytes], status, line, consumed_bytes, consumed_lines)
 * Parses the complete lines of body (and, when final, a last line without its LF) into rows row0, row0 + 1, ...
 * of out. Each non-blank line is "id<TAB>v1<TAB>...<TAB>vn" (optionally ending in CR). status 0: parsed up to
 * consumed_bytes (consumed_lines lines, blank ones included); 1: line `line` (0-based within body) has a number of
 * values other than n; 2: a value on line `line` is not a number; 3: more than n rows. */
static PyObject *parse_rows(PyObject *self, PyObject *args) {
    Py_buffer body_b, out_b;
    Py_ssize_t n, row0;
    int final;
    if (!PyArg_ParseTuple(args, "y*nw*np", &body_b, &n, &out_b, &row0, &final)) return NULL;
    PyObject *ids = NULL, *result = NULL;
    if (check_buffer(&out_b, 8, n * n, "out") < 0) goto done;
    ids = PyList_New(0);
    if (!ids) goto done;
    {
        const char *s = (const char *)body_b.buf, *end = s + body_b.len;
        double *out = (double *)out_b.buf;
        Py_ssize_t line = 0, row = row0;
        int status = 0;
        const char *p = s;
        while (p < end) {
            const char *eol = memchr(p, '\n', (size_t)(end - p));
            if (!eol && !final) break;  /* an incomplete line: left for the next call */
            if (!eol) eol = end;
            const char *stop = eol;
            if (stop > p && stop[-1] == '\r') stop--;
            const char *q = p;
            while (q < stop && (*q == ' ' || *q == '\t')) q++;
            if (q != stop) {  /* not a blank line */
                if (row >= n) { status = 3; break; }
                const char *tab = memchr(p, '\t', (size_t)(stop - p));
                if (!tab) { status = 1; break; }
                double *dst = out + row * n;
                const char *v = tab + 1;
                Py_ssize_t k = 0;
                for (;;) {
                    const char *next = memchr(v, '\t', (size_t)(stop - v));
                    const char *cell_end = next ? next : stop;
                    if (k >= n) { status = 1; break; }
                    char cell[256];
                    Py_ssize_t len = cell_end - v;
                    while (len > 0 && *v == ' ') { v++; len--; }
                    while (len > 0 && v[len - 1] == ' ') len--;
                    if (len == 0 || len >= (Py_ssize_t)sizeof(cell)) { status = 2; break; }
                    memcpy(cell, v, (size_t)len);
                    cell[len] = '\0';
                    char *parsed_end;
                    double x = strtod(cell, &parsed_end);
                    if (parsed_end != cell + len) { status = 2; break; }
                    dst[k++] = x;
                    if (!next) break;
                    v = next + 1;
                }
                if (status == 0 && k != n) status = 1;
                if (status) break;
                PyObject *id = PyBytes_FromStringAndSize(p, tab - p);
                if (!id || PyList_Append(ids, id) < 0) { Py_XDECREF(id); goto done; }
                Py_DECREF(id);
                row++;
            }
            line++;
            p = eol < end ? eol + 1 : end;
        }
        result = Py_BuildValue("Oinnn", ids, status, line, (Py_ssize_t)(p - s), line);
    }
done:
    Py_XDECREF(ids);
    PyBuffer_Release(&body_b);
    PyBuffer_Release(&out_b);
    return result;
}

/* ------------------------------------------------------------------------------------------------- training */

/* hr_clean(t, hr, hr_min, hr_max, spike_rate, dt_cap, h_out, w_out, counts_out, valid_scratch) -> (total, hr_time)
 * The rules are gutstride.analysis.training.profile.clean_hr's; see gutstride.analysis.training.kernels. */
static PyObject *hr_clean(PyObject *self, PyObject *args) {
    Py_buffer t_b, hr_b, h_b, w_b, c_b, v_b;
    double hr_min, hr_max, spike_rate, dt_cap;
    if (!PyArg_ParseTuple(args, "y*y*ddddw*w*w*w*", &t_b, &hr_b, &hr_min, &hr_max, &spike_rate, &dt_cap, &h_b, &w_b,
                          &c_b, &v_b))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = hr_b.len / 8;
    if (check_buffer(&t_b, 8, n, "t") < 0 || check_buffer(&hr_b, 8, n, "hr") < 0 || check_buffer(&h_b, 8, n, "h") < 0
        || check_buffer(&w_b, 8, n, "w") < 0 || check_buffer(&c_b, 8, 4, "counts") < 0
        || check_buffer(&v_b, 8, n, "valid") < 0)
        goto done;
    {
        const double *t = t_b.buf, *hr = hr_b.buf;
        double *h = h_b.buf, *w = w_b.buf, total = 0.0, hr_time = 0.0;
        int64_t *counts = c_b.buf, *valid = v_b.buf;
        Py_ssize_t n_valid = 0;
        counts[0] = counts[1] = counts[2] = counts[3] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            double x = hr[i];
            w[i] = 0.0;
            if (isnan(x)) { counts[0]++; h[i] = NAN; }
            else if (x < hr_min || x > hr_max) { counts[1]++; h[i] = NAN; }
            else { h[i] = x; valid[n_valid++] = i; }
            if (i + 1 < n) {
                double dt = t[i + 1] - t[i];
                if (dt > dt_cap) { counts[3]++; w[i] = dt_cap; }
                else if (dt > 0) w[i] = dt;
            }
        }
        for (Py_ssize_t k = 1; k + 1 < n_valid; k++) {
            int64_t a = valid[k - 1], b = valid[k], c = valid[k + 1];
            double r_in = (hr[b] - hr[a]) / fmax(t[b] - t[a], 1.0);
            double r_out = (hr[c] - hr[b]) / fmax(t[c] - t[b], 1.0);
            if (fabs(r_in) > spike_rate && fabs(r_out) > spike_rate && (r_in > 0) != (r_out > 0)) {
                h[b] = NAN;
                counts[2]++;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            total += w[i];
            if (!isnan(h[i])) hr_time += w[i];
        }
        result = Py_BuildValue("dd", total, hr_time);
    }
done:
    PyBuffer_Release(&t_b); PyBuffer_Release(&hr_b); PyBuffer_Release(&h_b);
    PyBuffer_Release(&w_b); PyBuffer_Release(&c_b); PyBuffer_Release(&v_b);
    return result;
}

/* hr_zones(h, w, bounds, hrmax, resting, hrr_zones, vo2_hr, a, b, a2, b2, z_max_out[6], z_basis_out[6])
 * -> (above, hr_sum, trimp): gutstride.analysis.training.sessions' per-sample sums (see kernels.zone_loop). */
static PyObject *hr_zones(PyObject *self, PyObject *args) {
    Py_buffer h_b, w_b, bounds_b, zm_b, zb_b;
    double hrmax, resting, vo2_hr, a, b, a2, b2;
    int hrr_zones;
    if (!PyArg_ParseTuple(args, "y*y*y*ddpdddddw*w*", &h_b, &w_b, &bounds_b, &hrmax, &resting, &hrr_zones, &vo2_hr,
                          &a, &b, &a2, &b2, &zm_b, &zb_b))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = h_b.len / 8, nb = bounds_b.len / 8;
    if (check_buffer(&w_b, 8, n, "w") < 0 || check_buffer(&bounds_b, 8, 0, "bounds") < 0 || nb > 5
        || check_buffer(&zm_b, 8, 6, "z_max") < 0 || check_buffer(&zb_b, 8, 6, "z_basis") < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "at most 5 zone bounds");
        goto done;
    }
    {
        const double *h = h_b.buf, *w = w_b.buf, *bounds = bounds_b.buf;
        double *z_max = zm_b.buf, *z_basis = zb_b.buf, above = 0.0, hr_sum = 0.0, trimp = 0.0;
        for (int z = 0; z < 6; z++) z_max[z] = z_basis[z] = 0.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            double x = h[i], wi = w[i];
            if (isnan(x) || wi == 0.0) continue;
            double pct = x / hrmax;
            Py_ssize_t z = 0;
            while (z < nb && pct >= bounds[z]) z++;
            z_max[z] += wi;
            if (hrr_zones) {
                double pct_r = (x - resting) / (hrmax - resting);
                Py_ssize_t zr = 0;
                while (zr < nb && pct_r >= bounds[zr]) zr++;
                z_basis[zr] += wi;
            }
            if (x > vo2_hr) above += wi;
            hr_sum += wi * x;
            if (!isnan(resting)) {
                double d = fmax((x - resting) / (hrmax - resting), 0.0);
                trimp += wi / 60.0 * d * (a * exp(b * d) + a2 * exp(b2 * d)) / 2.0;
            }
        }
        if (!hrr_zones) for (int z = 0; z < 6; z++) z_basis[z] = z_max[z];
        if (isnan(resting)) trimp = NAN;
        result = Py_BuildValue("ddd", above, hr_sum, trimp);
    }
done:
    PyBuffer_Release(&h_b); PyBuffer_Release(&w_b); PyBuffer_Release(&bounds_b);
    PyBuffer_Release(&zm_b); PyBuffer_Release(&zb_b);
    return result;
}

/* weighted_mean(values, w) -> sum of w x value over finite values with w > 0, over their weight; NaN if none. */
static PyObject *weighted_mean(PyObject *self, PyObject *args) {
    Py_buffer v_b, w_b;
    if (!PyArg_ParseTuple(args, "y*y*", &v_b, &w_b)) return NULL;
    Py_ssize_t n = v_b.len / 8;
    if (check_buffer(&w_b, 8, n, "w") < 0) { PyBuffer_Release(&v_b); PyBuffer_Release(&w_b); return NULL; }
    const double *v = v_b.buf, *w = w_b.buf;
    double total = 0.0, acc = 0.0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (isfinite(v[i]) && w[i] > 0) { total += w[i]; acc += w[i] * v[i]; }
    PyBuffer_Release(&v_b); PyBuffer_Release(&w_b);
    return PyFloat_FromDouble(total > 0 ? acc / total : NAN);
}

/* ------------------------------------------------------------------------------------------------- rarefaction */

/* xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64. */
typedef struct { uint64_t s[4]; } rng_t;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform integer in [0, bound), without bias (rejection of the first 2^64 mod bound values). */
static uint64_t rng_below(rng_t *r, uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound, x;
    do { x = rng_next(r); } while (x < threshold);
    return x % bound;
}

static int compare_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* rarefy_rows(indptr, data (int64 counts), rows, depth, seed, out): for each row r in rows, out[k] for its entries
 * k = the reads of entry k kept when depth of the row's N reads are drawn uniformly without replacement. The reads
 * are numbered 0..N-1 entry after entry; m = min(depth, N - depth) distinct positions are drawn by rejection
 * (fewer than 2m draws expected), sorted and counted per entry; when more than half are kept, the drawn positions
 * are the ones removed. The generator is seeded from (seed, row), so a row's draw does not depend on the others. */
static PyObject *rarefy_rows(PyObject *self, PyObject *args) {
    Py_buffer ip_b, d_b, rows_b, out_b;
    long long depth;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "y*y*y*LKw*", &ip_b, &d_b, &rows_b, &depth, &seed, &out_b)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n_rows = ip_b.len / 8 - 1, nnz = d_b.len / 8;
    if (check_buffer(&ip_b, 8, 1, "indptr") < 0 || check_buffer(&d_b, 8, 0, "data") < 0
        || check_buffer(&rows_b, 8, 0, "rows") < 0 || check_buffer(&out_b, 8, nnz, "out") < 0 || depth < 0)
        goto done;
    {
        const int64_t *indptr = ip_b.buf, *data = d_b.buf, *rows = rows_b.buf;
        int64_t *out = out_b.buf;
        Py_ssize_t n_selected = rows_b.len / 8;
        int failed = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t q = 0; q < n_selected && !failed; q++) {
            int64_t r = rows[q];
            if (r < 0 || r >= n_rows) { failed = 2; break; }
            int64_t start = indptr[r], end = indptr[r + 1], total = 0;
            for (int64_t k = start; k < end; k++) total += data[k];
            if (depth > total) { failed = 2; break; }
            int keep_drawn = 2 * depth <= total;
            int64_t take = keep_drawn ? depth : total - depth;
            uint8_t *taken = calloc((size_t)(total > 0 ? total : 1), 1);
            int64_t *chosen = malloc(sizeof(int64_t) * (size_t)(take > 0 ? take : 1));
            if (!taken || !chosen) { free(taken); free(chosen); failed = 1; break; }
            uint64_t state = seed * 0x100000001B3ULL ^ (uint64_t)r;
            rng_t g;
            for (int i = 0; i < 4; i++) g.s[i] = splitmix64(&state);
            for (int64_t got = 0; got < take;) {
                int64_t pos = (int64_t)rng_below(&g, (uint64_t)total);
                if (!taken[pos]) { taken[pos] = 1; chosen[got++] = pos; }
            }
            qsort(chosen, (size_t)take, sizeof(int64_t), compare_int64);
            int64_t c = 0, upper = 0;
            for (int64_t k = start; k < end; k++) {
                upper += data[k];
                int64_t hits = 0;
                while (c < take && chosen[c] < upper) { hits++; c++; }
                out[k] = keep_drawn ? hits : data[k] - hits;
            }
            free(taken);
            free(chosen);
        }
        Py_END_ALLOW_THREADS
        if (failed == 1) PyErr_NoMemory();
        else if (failed == 2) PyErr_SetString(PyExc_ValueError, "a row out of range or with fewer reads than depth");
        else result = Py_NewRef(Py_None);
    }
done:
    PyBuffer_Release(&ip_b); PyBuffer_Release(&d_b); PyBuffer_Release(&rows_b); PyBuffer_Release(&out_b);
    return result;
}

static PyMethodDef methods[] = {
    {"fit_crc16", fit_crc16, METH_VARARGS, "FIT CRC-16 of buf[start:stop] with the slicing-by-8 tables."},
    {"fit_scan", fit_scan, METH_VARARGS, "Walk FIT data messages; returns (n, pos, reason)."},
    {"fit_resolve_compressed", fit_resolve_compressed, METH_VARARGS, "Fill compressed timestamps in place."},
    {"fit_inspect", fit_inspect, METH_VARARGS, "What inspect prints of one well-formed FIT file, or None."},
    {"min_sums_tiles", min_sums_tiles, METH_VARARGS, "Sums of minima between CSR rows, by tiles (in place)."},
    {"minsum_finish", minsum_finish, METH_VARARGS, "Distances of a block of rows from sums of minima (in place)."},
    {"format_rows", format_rows, METH_VARARGS, "Distance-matrix TSV lines of a block of rows."},
    {"hr_clean", hr_clean, METH_VARARGS, "Clean a heart-rate series and weigh its samples (in place)."},
    {"hr_zones", hr_zones, METH_VARARGS, "Per-sample zone, intensity and TRIMP sums of one session."},
    {"weighted_mean", weighted_mean, METH_VARARGS, "Weighted mean over finite values with positive weight."},
    {"rarefy_rows", rarefy_rows, METH_VARARGS, "Subsample rows of CSR counts to a depth, without replacement."},
    {"parse_rows", parse_rows, METH_VARARGS, "Parse distance-matrix TSV rows into a preallocated array."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gutstride_native", "gutstride's compiled kernels.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__gutstride_native(void) { return PyModule_Create(&module); }
