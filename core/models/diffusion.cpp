#include "models/families.h"

namespace ll {

Family diffusionFamily() {
    return {};
}

}  // namespace ll
