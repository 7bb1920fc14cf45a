#version 450

// Every pixel reads which atlas texel it shows from the texel map, the numbers
// ll::widgets::GridLayout::fillTexelMap computes on the CPU (the QPainter fallback draws from
// the same function), so both renderers pick the same texel for every pixel by construction,
// with no placement or division arithmetic here (lavapipe runs integer division one SIMD lane
// at a time) and one rectangle instead of a quad per tile (thousands of small triangles cost
// it setup and binning).

// True when the swapchain is sRGB: the hardware then encodes our output, so hand it linear
// values to get the atlas bytes back on screen.
layout(constant_id = 0) const bool kLinearOutput = false;

layout(binding = 0) uniform sampler2D atlas;

// The canvas's columns, then its rows: an atlas column (row) or -1 where no tile is.
layout(std430, binding = 1) readonly buffer TexelMap {
    int texel[];
} texelMap;

layout(push_constant) uniform Params {
    ivec4 rect;       // grid.vert's
    vec4 background;  // the view's background, sRGB-encoded like the atlas (for the gaps)
    ivec2 viewSize;   // the rows start at viewSize.x in texelMap
} params;

layout(location = 0) out vec4 fragColor;

vec3 srgbToLinear(vec3 c)
{
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(vec3(0.04045), c));
}

void main()
{
    // Fragment centres sit at pixel + 0.5, so truncation gives the pixel exactly.
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    int column = texelMap.texel[pixel.x];
    int row = texelMap.texel[params.viewSize.x + pixel.y];
    // Tiles are shown opaque (alpha ignored), as the QPainter fallback does.
    vec3 rgb = (column < 0 || row < 0) ? params.background.rgb
                                        : texelFetch(atlas, ivec2(column, row), 0).rgb;
    fragColor = vec4(kLinearOutput ? srgbToLinear(rgb) : rgb, 1.0);
}
