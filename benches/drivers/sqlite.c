/* SQLite driver: an in-memory database with a table of N rows inserted by a
 * prepared statement inside one transaction, an index, and a few queries
 * (point lookups, a range scan, GROUP BY, ORDER BY with LIMIT, a join). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static sqlite3 *db;

static void check(int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static int print_row(void *unused, int n, char **vals, char **names)
{
    (void)unused;
    (void)names;
    for (int i = 0; i < n; i++)
        printf("%s%s", i ? "|" : "", vals[i] ? vals[i] : "NULL");
    printf("\n");
    return 0;
}

static void query(const char *sql)
{
    printf("-- %s\n", sql);
    check(sqlite3_exec(db, sql, print_row, NULL, NULL), sql);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    check(sqlite3_open(":memory:", &db), "open");
    check(sqlite3_exec(db,
                       "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, v REAL);"
                       "CREATE TABLE g(k INTEGER PRIMARY KEY, label TEXT);",
                       NULL, NULL, NULL),
          "create");
    check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    sqlite3_stmt *ins;
    check(sqlite3_prepare_v2(db, "INSERT INTO t(k, name, v) VALUES(?1, ?2, ?3)", -1, &ins, NULL),
          "prepare");
    unsigned seed = 1;
    char name[32];
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(name, sizeof name, "item-%u", (seed >> 8) % 50000);
        sqlite3_bind_int(ins, 1, (int)((seed >> 4) % 1000));
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ins, 3, (double)(seed % 10007) / 7.0);
        check(sqlite3_step(ins), "insert");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    for (int k = 0; k < 1000; k += 10) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO g VALUES(%d, 'group-%d')", k, k / 10);
        check(sqlite3_exec(db, sql, NULL, NULL, NULL), "insert g");
    }
    check(sqlite3_exec(db, "COMMIT; CREATE INDEX tk ON t(k); CREATE INDEX tn ON t(name);", NULL,
                       NULL, NULL),
          "index");
    query("SELECT count(*), sum(k), printf('%.3f', avg(v)) FROM t");
    query("SELECT k, count(*), printf('%.3f', sum(v)) FROM t GROUP BY k ORDER BY 2 DESC, 1 LIMIT 5");
    query("SELECT count(*) FROM t WHERE name BETWEEN 'item-2' AND 'item-3'");
    query("SELECT name, printf('%.4f', v) FROM t ORDER BY v DESC, id LIMIT 5");
    query("SELECT g.label, count(*) FROM t JOIN g ON t.k = g.k GROUP BY g.label ORDER BY 2 DESC, 1 "
          "LIMIT 3");
    query("SELECT count(DISTINCT name), max(length(name)), min(id) FROM t WHERE k % 7 = 3");
    sqlite3_stmt *pt;
    check(sqlite3_prepare_v2(db, "SELECT sum(v) FROM t WHERE k = ?1", -1, &pt, NULL), "prepare");
    double total = 0;
    for (int i = 0; i < 4000; i++) {
        sqlite3_bind_int(pt, 1, i % 1000);
        check(sqlite3_step(pt), "lookup");
        total += sqlite3_column_double(pt, 0);
        sqlite3_reset(pt);
    }
    sqlite3_finalize(pt);
    printf("lookups %.3f\n", total);
    sqlite3_close(db);
    return 0;
}
