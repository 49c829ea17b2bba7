// libpq, loaded on first use.
//
// libpq pulls about twenty shared libraries into the process (Kerberos, LDAP, GnuTLS, ...),
// and mapping and initialising them cost about 5 ms at every start, half of `tandem
// --version`. Commands that never touch a database (lint without one, new, --version) should
// not pay that, so tandem does not link libpq: this file defines the libpq functions tandem
// calls, and each one loads libpq.so.5 and resolves the real function the first time it runs.
// libpq-fe.h is included, so a signature that differs from libpq's does not compile.
#include <dlfcn.h>
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace {

constexpr const char* kLibpq = "libpq.so.5";

[[noreturn]] void Unavailable(const char* what, const char* why) {
  std::fprintf(stderr,
               "tandem: error: could not load %s: %s\n"
               "HINT:  install the libpq5 package (apt-get install libpq5)\n",
               what, why ? why : "unknown error");
  std::exit(3);
}

void* Library() {
  static void* handle = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    handle = dlopen(kLibpq, RTLD_NOW | RTLD_LOCAL);
    if (!handle) Unavailable(kLibpq, dlerror());
  });
  return handle;
}

template <typename Function>
Function* Resolve(const char* name) {
  void* symbol = dlsym(Library(), name);
  if (!symbol) Unavailable(name, dlerror());
  return reinterpret_cast<Function*>(symbol);
}

}  // namespace

// Each forwarder resolves its function once (a thread-safe static) and calls it.
#define TANDEM_LIBPQ(result, name, params, args)        \
  extern "C" result name params {                       \
    static auto* real = Resolve<decltype(name)>(#name); \
    return real args;                                   \
  }

TANDEM_LIBPQ(int, PQbackendPID, (const PGconn* conn), (conn))
TANDEM_LIBPQ(int, PQcancel, (PGcancel * cancel, char* errbuf, int errbufsize),
             (cancel, errbuf, errbufsize))
TANDEM_LIBPQ(void, PQclear, (PGresult * res), (res))
TANDEM_LIBPQ(char*, PQcmdStatus, (PGresult * res), (res))
TANDEM_LIBPQ(PGconn*, PQconnectdbParams,
             (const char* const* keywords, const char* const* values, int expand_dbname),
             (keywords, values, expand_dbname))
TANDEM_LIBPQ(void, PQconninfoFree, (PQconninfoOption * options), (options))
TANDEM_LIBPQ(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg),
             (conninfo, errmsg))
TANDEM_LIBPQ(int, PQenterPipelineMode, (PGconn * conn), (conn))
TANDEM_LIBPQ(char*, PQerrorMessage, (const PGconn* conn), (conn))
TANDEM_LIBPQ(PGresult*, PQexecParams,
             (PGconn * conn, const char* command, int nParams, const Oid* paramTypes,
              const char* const* paramValues, const int* paramLengths, const int* paramFormats,
              int resultFormat),
             (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
              resultFormat))
TANDEM_LIBPQ(int, PQexitPipelineMode, (PGconn * conn), (conn))
TANDEM_LIBPQ(void, PQfinish, (PGconn * conn), (conn))
TANDEM_LIBPQ(char*, PQfname, (const PGresult* res, int field_num), (res, field_num))
TANDEM_LIBPQ(void, PQfreeCancel, (PGcancel * cancel), (cancel))
TANDEM_LIBPQ(void, PQfreemem, (void* ptr), (ptr))
TANDEM_LIBPQ(int, PQconsumeInput, (PGconn * conn), (conn))
TANDEM_LIBPQ(PGnotify*, PQnotifies, (PGconn * conn), (conn))
TANDEM_LIBPQ(int, PQsocket, (const PGconn* conn), (conn))
TANDEM_LIBPQ(PGcancel*, PQgetCancel, (PGconn * conn), (conn))
TANDEM_LIBPQ(PGresult*, PQgetResult, (PGconn * conn), (conn))
TANDEM_LIBPQ(int, PQgetisnull, (const PGresult* res, int tup_num, int field_num),
             (res, tup_num, field_num))
TANDEM_LIBPQ(int, PQgetlength, (const PGresult* res, int tup_num, int field_num),
             (res, tup_num, field_num))
TANDEM_LIBPQ(char*, PQgetvalue, (const PGresult* res, int tup_num, int field_num),
             (res, tup_num, field_num))
TANDEM_LIBPQ(int, PQnfields, (const PGresult* res), (res))
TANDEM_LIBPQ(int, PQntuples, (const PGresult* res), (res))
TANDEM_LIBPQ(PGPing, PQping, (const char* conninfo), (conninfo))
TANDEM_LIBPQ(int, PQpipelineSync, (PGconn * conn), (conn))
TANDEM_LIBPQ(int, PQputCopyData, (PGconn * conn, const char* buffer, int nbytes),
             (conn, buffer, nbytes))
TANDEM_LIBPQ(int, PQputCopyEnd, (PGconn * conn, const char* errormsg), (conn, errormsg))
TANDEM_LIBPQ(char*, PQresultErrorField, (const PGresult* res, int fieldcode), (res, fieldcode))
TANDEM_LIBPQ(ExecStatusType, PQresultStatus, (const PGresult* res), (res))
TANDEM_LIBPQ(int, PQsendPrepare,
             (PGconn * conn, const char* stmtName, const char* query, int nParams,
              const Oid* paramTypes),
             (conn, stmtName, query, nParams, paramTypes))
TANDEM_LIBPQ(int, PQsendQueryParams,
             (PGconn * conn, const char* command, int nParams, const Oid* paramTypes,
              const char* const* paramValues, const int* paramLengths, const int* paramFormats,
              int resultFormat),
             (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
              resultFormat))
TANDEM_LIBPQ(int, PQsendQueryPrepared,
             (PGconn * conn, const char* stmtName, int nParams, const char* const* paramValues,
              const int* paramLengths, const int* paramFormats, int resultFormat),
             (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))
TANDEM_LIBPQ(int, PQserverVersion, (const PGconn* conn), (conn))
TANDEM_LIBPQ(PQnoticeReceiver, PQsetNoticeReceiver,
             (PGconn * conn, PQnoticeReceiver proc, void* arg), (conn, proc, arg))
TANDEM_LIBPQ(ConnStatusType, PQstatus, (const PGconn* conn), (conn))
TANDEM_LIBPQ(PGTransactionStatusType, PQtransactionStatus, (const PGconn* conn), (conn))
