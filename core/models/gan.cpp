#include "models/families.h"

namespace ll {

Family ganFamily() {
    return {};
}

}  // namespace ll
