#version 450

// One instance per tile, six vertices per instance (two triangles, no vertex buffer). The
// placement arithmetic mirrors ll::widgets::GridLayout::tileRect so that the QPainter fallback
// covers exactly the same pixels.

layout(push_constant) uniform Params {
    vec2 viewport;  // swapchain size in pixels
    vec2 origin;    // screen position of the padded content's top-left corner
    vec2 tileSize;  // tile size in atlas pixels
    float scale;    // screen pixels per atlas pixel
    float gap;      // gap between tiles in atlas pixels
    int cols;
    int rows;
} params;

layout(location = 0) flat out ivec4 v_rect;       // snapped tile rectangle: left, top, right, bottom
layout(location = 1) flat out ivec2 v_texOrigin;  // top-left texel of the tile in the atlas
layout(location = 2) flat out ivec2 v_tileSize;
layout(location = 3) flat out vec2 v_inverseDenominator;  // for grid.frag's texelForPixel

const vec2 kCorners[6] = vec2[](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
                                vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0));

void main()
{
    int col = gl_InstanceIndex % params.cols;
    int row = gl_InstanceIndex / params.cols;
    vec2 cell = vec2(float(col), float(row));
    vec2 p0 = params.origin + (params.gap + cell * (params.tileSize + params.gap)) * params.scale;
    vec2 p1 = p0 + params.tileSize * params.scale;
    // Whole-pixel edges: the pixels whose centres lie in [p0, p1), as GridLayout snaps them.
    vec2 lo = ceil(p0 - 0.5);
    vec2 hi = ceil(p1 - 0.5);
    vec2 pos = mix(lo, hi, kCorners[gl_VertexIndex]);

    v_rect = ivec4(lo, hi);
    v_texOrigin = ivec2(cell * params.tileSize);
    v_tileSize = ivec2(params.tileSize);
    v_inverseDenominator = 1.0 / (2.0 * max(hi - lo, vec2(1.0)));
    gl_Position = vec4(pos / params.viewport * 2.0 - 1.0, 0.0, 1.0);
}
