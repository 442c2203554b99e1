/* Compiled kernels of gutstride, built at install (setup.py ext_modules) so that no JIT runs while a user waits.
 *
 * Arrays come in through the buffer protocol (numpy arrays, bytes), so the module needs no numpy headers.
 * Every kernel releases the GIL while it runs.
 *
 * - fit_crc16, fit_scan, fit_resolve_compressed: the FIT decoder's loops (gutstride.ingest.activities.fit).
 * - min_sums_tiles: sums of element-wise minima of CSR rows (gutstride.analysis.microbiome._pairwise).
 * - parse_rows: distance-matrix TSV text into a preallocated array (gutstride.ingest.microbiome.distance_matrix).
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

/* ------------------------------------------------------------------------------------------------- TSV text */

/* parse_rows(body: bytes, n: int, out: writable float64 buffer of n * n) -> (ids: list[bytes], status, line)
 * Each non-blank line is "id<TAB>v1<TAB>...<TAB>vn" (optionally ending in CR). status 0: all rows parsed (len(ids)
 * may differ from n when there are fewer lines); 1: line `line` (0-based within body) has a number of values
 * other than n; 2: a value on line `line` is not a number; 3: more than n rows. */
static PyObject *parse_rows(PyObject *self, PyObject *args) {
    Py_buffer body_b, out_b;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*nw*", &body_b, &n, &out_b)) return NULL;
    PyObject *ids = NULL, *result = NULL;
    if (check_buffer(&out_b, 8, n * n, "out") < 0) goto done;
    ids = PyList_New(0);
    if (!ids) goto done;
    {
        const char *s = (const char *)body_b.buf, *end = s + body_b.len;
        double *out = (double *)out_b.buf;
        Py_ssize_t line = -1, row = 0;
        int status = 0;
        const char *p = s;
        while (p < end && status == 0) {
            line++;
            const char *eol = memchr(p, '\n', (size_t)(end - p));
            if (!eol) eol = end;
            const char *stop = eol;
            if (stop > p && stop[-1] == '\r') stop--;
            const char *q = p;
            while (q < stop && (*q == ' ' || *q == '\t')) q++;
            if (q == stop) { p = eol + 1; continue; }  /* blank line */
            if (row >= n) { status = 3; break; }
            const char *tab = memchr(p, '\t', (size_t)(stop - p));
            if (!tab) { status = 1; break; }
            PyObject *id = PyBytes_FromStringAndSize(p, tab - p);
            if (!id || PyList_Append(ids, id) < 0) { Py_XDECREF(id); goto done; }
            Py_DECREF(id);
            double *dst = out + row * n;
            const char *v = tab + 1;
            Py_ssize_t k = 0;
            for (;;) {
                const char *next = memchr(v, '\t', (size_t)(stop - v));
                const char *cell_end = next ? next : stop;
                if (k >= n) { status = 1; break; }
                char cell[64];
                Py_ssize_t len = cell_end - v;
                while (len > 0 && (*v == ' ')) { v++; len--; }
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
            row++;
            p = eol + 1;
        }
        result = Py_BuildValue("Oin", ids, status, line < 0 ? 0 : line);
    }
done:
    Py_XDECREF(ids);
    PyBuffer_Release(&body_b);
    PyBuffer_Release(&out_b);
    return result;
}

static PyMethodDef methods[] = {
    {"fit_crc16", fit_crc16, METH_VARARGS, "FIT CRC-16 of buf[start:stop] with the slicing-by-8 tables."},
    {"fit_scan", fit_scan, METH_VARARGS, "Walk FIT data messages; returns (n, pos, reason)."},
    {"fit_resolve_compressed", fit_resolve_compressed, METH_VARARGS, "Fill compressed timestamps in place."},
    {"min_sums_tiles", min_sums_tiles, METH_VARARGS, "Sums of minima between CSR rows, by tiles (in place)."},
    {"parse_rows", parse_rows, METH_VARARGS, "Parse distance-matrix TSV rows into a preallocated array."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gutstride_native", "gutstride's compiled kernels.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__gutstride_native(void) { return PyModule_Create(&module); }
