#version 450

// One rectangle (two triangles, no vertex buffer) over the part of the view the tiles take:
// grid.frag decides each of its pixels, tile or gap, from the texel map, so nothing is placed
// here. The margins around it keep the render pass's clear, which costs a software device
// (lavapipe) far less per pixel than the fragment shader.

layout(push_constant) uniform Params {
    ivec4 rect;       // left, top, right, bottom in pixels, inside the view
    vec4 background;  // grid.frag's
    ivec2 viewSize;   // the framebuffer's width and height
} params;

const vec2 kCorners[6] = vec2[](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
                                vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0));

void main()
{
    vec2 pos = mix(vec2(params.rect.xy), vec2(params.rect.zw), kCorners[gl_VertexIndex]);
    gl_Position = vec4(pos / vec2(params.viewSize) * 2.0 - 1.0, 0.0, 1.0);
}
