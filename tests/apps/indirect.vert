#version 460
// vk_sync_objects: cell c = gl_VertexIndex / 6 + 8 * gl_InstanceIndex of an 8x8 grid over the
// target (two triangles per cell), colored (tag, c, gl_DrawID + 1) / 255 for tri.frag.
layout(push_constant) uniform PC { uint tag; } pc;
layout(location = 0) out vec3 color;
void main() {
   const int xs[6] = int[](0, 1, 0, 1, 1, 0);
   const int ys[6] = int[](0, 0, 1, 0, 1, 1);
   int c = gl_VertexIndex / 6 + 8 * gl_InstanceIndex, k = gl_VertexIndex % 6;
   gl_Position = vec4(-1.0 + 0.25 * float(c % 8 + xs[k]), -1.0 + 0.25 * float(c / 8 + ys[k]), 0.5, 1.0);
   color = vec3(float(pc.tag), float(c), float(gl_DrawID + 1)) / 255.0;
}
