// Prints the dual-write trigger tandem generates (src/expand/dual_write.h) for the bench table
// of bench/expand/run.sh, so the bench measures exactly the generator's SQL.
//
//   expand_trigger_sql TABLE OLD_COLUMN NEW_COLUMN [FORWARD_SQL [BACKWARD_SQL]]
//
// FORWARD_SQL defaults to NEW."OLD_COLUMN", BACKWARD_SQL to NEW."NEW_COLUMN" (a rename).
#include <cstdio>
#include <string>

#include "expand/dual_write.h"
#include "pg/quote.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s TABLE OLD_COLUMN NEW_COLUMN [FORWARD_SQL [BACKWARD_SQL]]\n",
                 argv[0]);
    return 2;
  }
  tandem::expand::DualWriteSpec spec;
  spec.schema = "public";
  spec.table = argv[1];
  spec.trigger_name = std::string("_tandem_dw_") + argv[1];
  spec.function_name = spec.trigger_name;
  tandem::expand::ColumnPair pair;
  pair.old_column = argv[2];
  pair.new_column = argv[3];
  pair.forward_sql = argc > 4 ? argv[4] : "NEW." + tandem::pg::QuoteIdentifier(argv[2]);
  pair.backward_sql = argc > 5 ? argv[5] : "NEW." + tandem::pg::QuoteIdentifier(argv[3]);
  spec.columns.push_back(pair);
  tandem::Status status = tandem::expand::CheckDualWriteSpec(spec);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  for (const std::string& sql : tandem::expand::CreateDualWriteSql(spec)) {
    std::printf("%s;\n", sql.c_str());
  }
  return 0;
}
