#version 450
// A rectangle (two triangles, 6 vertices) given in NDC by push constants, at depth z.
layout(push_constant) uniform PC { vec4 rect; float z; } pc;
void main() {
   const int xs[6] = int[](0, 1, 0, 1, 1, 0);
   const int ys[6] = int[](0, 0, 1, 0, 1, 1);
   int i = gl_VertexIndex % 6;
   gl_Position = vec4(xs[i] == 0 ? pc.rect.x : pc.rect.z, ys[i] == 0 ? pc.rect.y : pc.rect.w, pc.z, 1.0);
}
