#include "expand/catalog.h"

#include "migrate/history.h"
#include "pg/quote.h"

namespace tandem::expand {
namespace {

// "a,b" -> {"a", "b"}; "" -> {}.
std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (!list.empty()) {
    size_t end = list.find(',', pos);
    out.push_back(list.substr(pos, end == std::string::npos ? end : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

}  // namespace

const ColumnInfo* TableInfo::Column(const std::string& column) const {
  for (const ColumnInfo& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

Result<TableInfo> ReadTable(pg::Connection& connection, const std::string& schema,
                            const std::string& name) {
  std::string wanted =
      schema.empty() ? pg::QuoteIdentifier(name) : pg::QuoteQualified(schema, name);
  TANDEM_ASSIGN_OR_RETURN(
      auto rel, connection.Query("SELECT c.oid, n.nspname, c.relname, c.relkind "
                                 "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON "
                                 "n.oid = c.relnamespace WHERE c.oid = pg_catalog.to_regclass($1)",
                                 {wanted}));
  if (rel.rows() == 0) {
    return Status::InvalidInput("table " + wanted + " does not exist");
  }
  TableInfo t;
  std::string oid = rel.Get(0, 0);
  t.schema = rel.Get(0, 1);
  t.name = rel.Get(0, 2);
  t.qualified = pg::QuoteQualified(t.schema, t.name);
  t.kind = rel.Get(0, 3).empty() ? 'r' : rel.Get(0, 3)[0];

  TANDEM_ASSIGN_OR_RETURN(
      auto cols,
      connection.Query(
          "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
          "coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), ''), a.attnotnull, "
          "a.attidentity::text, a.attgenerated <> '', "
          "coalesce(pg_catalog.col_description(a.attrelid, a.attnum), ''), "
          "coalesce((SELECT pg_catalog.string_agg(x.privilege_type || '|' || "
          "CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END, ',') "
          "FROM pg_catalog.aclexplode(a.attacl) x LEFT JOIN pg_catalog.pg_roles r ON r.oid = "
          "x.grantee), '') "
          "FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = "
          "a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
          "a.attisdropped ORDER BY a.attnum",
          {oid}));
  for (size_t i = 0; i < cols.rows(); ++i) {
    ColumnInfo c;
    c.name = cols.Get(i, 0);
    c.type = cols.Get(i, 1);
    c.default_sql = cols.Get(i, 2);
    c.not_null = cols.GetBool(i, 3);
    std::string identity = cols.Get(i, 4);
    c.identity = !identity.empty();
    c.identity_kind = identity.empty() ? 0 : identity[0];
    c.generated = cols.GetBool(i, 5);
    c.comment = cols.Get(i, 6);
    std::string grants = cols.Get(i, 7);
    size_t pos = 0;
    while (pos < grants.size()) {
      size_t end = grants.find(',', pos);
      if (end == std::string::npos) end = grants.size();
      std::string item = grants.substr(pos, end - pos);
      size_t bar = item.find('|');
      if (bar != std::string::npos)
        c.grants.emplace_back(item.substr(0, bar), item.substr(bar + 1));
      pos = end + 1;
    }
    t.columns.push_back(std::move(c));
  }

  TANDEM_ASSIGN_OR_RETURN(
      auto idx,
      connection.Query(
          "SELECT ic.relname, i.indisunique, i.indisprimary, am.amname, "
          "(SELECT pg_catalog.string_agg(coalesce(a.attname, ''), ',' ORDER BY k.n) FROM "
          "pg_catalog.unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n) "
          "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
          "k.attnum AND k.attnum > 0), "
          "i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = i.indnkeyatts, "
          "EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid "
          "AND c.conrelid = i.indrelid), i.indexrelid, "
          "coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), ''), "
          "coalesce(pg_catalog.array_to_string(ic.reloptions, ', '), ''), "
          "(SELECT pg_catalog.string_agg(DISTINCT a.attname, ',') FROM pg_catalog.pg_attribute a "
          "WHERE a.attrelid = i.indrelid AND (a.attnum = ANY (i.indkey::int2[]) OR a.attnum IN "
          "(SELECT d.refobjsubid FROM pg_catalog.pg_depend d WHERE d.classid = "
          "'pg_catalog.pg_class'::regclass AND d.objid = i.indexrelid AND d.refobjid = "
          "i.indrelid AND d.refobjsubid > 0))) "
          "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
          "JOIN pg_catalog.pg_am am ON am.oid = ic.relam WHERE i.indrelid = $1::oid "
          "ORDER BY ic.relname",
          {oid}));
  for (size_t i = 0; i < idx.rows(); ++i) {
    IndexInfo x;
    x.name = idx.Get(i, 0);
    x.unique = idx.GetBool(i, 1);
    x.primary = idx.GetBool(i, 2);
    x.method = idx.Get(i, 3);
    std::string cols_text = idx.Get(i, 4);
    size_t pos = 0;
    while (true) {
      size_t end = cols_text.find(',', pos);
      x.columns.push_back(cols_text.substr(pos, end == std::string::npos ? end : end - pos));
      if (end == std::string::npos) break;
      pos = end + 1;
    }
    x.simple = idx.GetBool(i, 5);
    x.constraint = idx.GetBool(i, 6);
    x.predicate = idx.Get(i, 8);
    x.reloptions = idx.Get(i, 9);
    x.referenced = SplitList(idx.Get(i, 10));
    TANDEM_ASSIGN_OR_RETURN(
        auto keys,
        connection.Query(
            "SELECT coalesce(a.attname, ''), CASE WHEN k.attnum = 0 THEN "
            "pg_catalog.pg_get_indexdef(i.indexrelid, k.n::int, false) ELSE '' END, "
            "CASE WHEN opc.oid IS NULL OR opc.opcdefault THEN '' ELSE "
            "pg_catalog.quote_ident(opn.nspname) || '.' || pg_catalog.quote_ident(opc.opcname) "
            "END, CASE WHEN co.oid IS NULL OR co.oid = 100 OR co.oid = a.attcollation THEN '' "
            "ELSE pg_catalog.quote_ident(con.nspname) || '.' || "
            "pg_catalog.quote_ident(co.collname) END, "
            "coalesce(i.indoption[k.n - 1], 0), k.n > i.indnkeyatts "
            "FROM pg_catalog.pg_index i CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) "
            "WITH ORDINALITY k(attnum, n) "
            "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
            "k.attnum AND k.attnum > 0 "
            "LEFT JOIN pg_catalog.pg_opclass opc ON k.n <= i.indnkeyatts AND opc.oid = "
            "i.indclass[k.n - 1] LEFT JOIN pg_catalog.pg_namespace opn ON opn.oid = "
            "opc.opcnamespace "
            "LEFT JOIN pg_catalog.pg_collation co ON k.n <= i.indnkeyatts AND co.oid = "
            "i.indcollation[k.n - 1] LEFT JOIN pg_catalog.pg_namespace con ON con.oid = "
            "co.collnamespace "
            "WHERE i.indexrelid = $1::oid ORDER BY k.n",
            {idx.Get(i, 7)}));
    for (size_t k = 0; k < keys.rows(); ++k) {
      if (keys.GetBool(k, 5)) {
        x.include.push_back(keys.Get(k, 0));
        continue;
      }
      IndexKey key;
      key.column = keys.Get(k, 0);
      key.expression = keys.Get(k, 1);
      key.opclass = keys.Get(k, 2);
      key.collation = keys.Get(k, 3);
      key.option = static_cast<int>(keys.GetInt(k, 4));
      x.keys.push_back(std::move(key));
    }
    t.indexes.push_back(std::move(x));
  }

  auto read_constraints = [&](const std::string& where) -> Result<std::vector<ConstraintInfo>> {
    TANDEM_ASSIGN_OR_RETURN(
        auto con,
        connection.Query(
            "SELECT c.conname, c.contype, pg_catalog.pg_get_constraintdef(c.oid), "
            "c.conrelid::regclass::text, CASE WHEN c.contype = 'c' THEN "
            "pg_catalog.pg_get_expr(c.conbin, c.conrelid) ELSE '' END, c.convalidated, (SELECT "
            "pg_catalog.string_agg(a.attname, ',' ORDER BY "
            "k.n) FROM pg_catalog.unnest(CASE WHEN c.conrelid = $1::oid THEN c.conkey ELSE "
            "c.confkey END) WITH ORDINALITY k(attnum, n) JOIN pg_catalog.pg_attribute a ON "
            "a.attrelid = $1::oid AND a.attnum = k.attnum) "
            "FROM pg_catalog.pg_constraint c WHERE " +
                where + " ORDER BY c.conname",
            {oid}));
    std::vector<ConstraintInfo> out;
    for (size_t i = 0; i < con.rows(); ++i) {
      ConstraintInfo c;
      c.name = con.Get(i, 0);
      c.type = con.Get(i, 1).empty() ? 'c' : con.Get(i, 1)[0];
      c.definition = con.Get(i, 2);
      c.table = con.Get(i, 3);
      c.expression = con.Get(i, 4);
      c.validated = con.GetBool(i, 5);
      std::string list = con.Get(i, 6);
      size_t pos = 0;
      while (!list.empty()) {
        size_t end = list.find(',', pos);
        c.columns.push_back(list.substr(pos, end == std::string::npos ? end : end - pos));
        if (end == std::string::npos) break;
        pos = end + 1;
      }
      out.push_back(std::move(c));
    }
    return out;
  };
  TANDEM_ASSIGN_OR_RETURN(t.constraints, read_constraints("c.conrelid = $1::oid"));
  TANDEM_ASSIGN_OR_RETURN(t.incoming_fks,
                          read_constraints("c.confrelid = $1::oid AND c.contype = 'f'"));

  TANDEM_ASSIGN_OR_RETURN(
      auto views,
      connection.Query("SELECT DISTINCT v.oid::regclass::text FROM pg_catalog.pg_depend d "
                       "JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
                       "JOIN pg_catalog.pg_class v ON v.oid = r.ev_class "
                       "WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = "
                       "$1::oid AND v.oid <> $1::oid ORDER BY 1",
                       {oid}));
  for (size_t i = 0; i < views.rows(); ++i) t.dependent_views.push_back(views.Get(i, 0));
  return t;
}

}  // namespace tandem::expand
