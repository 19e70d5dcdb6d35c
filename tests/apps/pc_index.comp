#version 450
#extension GL_EXT_nonuniform_qualifier : require
// out[out_off + i] = data[k].v[i] * mul + k with k = base + sel[i] % count, where data is a
// runtime-sized (variable-count, partially bound, update-after-bind) array of storage
// buffers indexed non-uniformly.  The push constants are pushed in two pieces.
layout(local_size_x = 64) in;
layout(push_constant) uniform PC { uint base; uint count; uint mul; uint out_off; } pc;
layout(set = 0, binding = 0) readonly buffer Sel { uint sel[]; };
layout(set = 0, binding = 1) writeonly buffer Out { uint outv[]; };
layout(set = 1, binding = 0) readonly buffer Data { uint v[]; } data[];
void main() {
   uint i = gl_GlobalInvocationID.x;
   uint k = pc.base + sel[i] % pc.count;
   outv[pc.out_off + i] = data[nonuniformEXT(k)].v[i] * pc.mul + k;
}
