// A Status as a JSON object (message, sqlstate, detail, hint, file, line, column), the one
// shape every --format json output uses for errors.
#pragma once

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace tandem {

nlohmann::json StatusToJson(const Status& status);

}  // namespace tandem
