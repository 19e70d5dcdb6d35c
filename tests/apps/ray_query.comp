#version 460
#extension GL_EXT_ray_query : require
// One ray per invocation, straight down +z through a 16x16 grid over [-1, 3) x [-1, 3);
// each writes whether it hit, the instance's custom index, the primitive id and the hit's
// barycentrics (scaled to integers) of the closest triangle (tests/apps/vk_ray_query.c).
layout(local_size_x = 16, local_size_y = 16) in;
layout(binding = 0) uniform accelerationStructureEXT tlas;
layout(std430, binding = 1) buffer Out { uvec4 v[]; } o;
void main()
{
   uvec2 p = gl_GlobalInvocationID.xy;
   vec3 origin = vec3(-1.0 + (float(p.x) + 0.5) * 0.25, -1.0 + (float(p.y) + 0.5) * 0.25, -1.0);
   rayQueryEXT q;
   rayQueryInitializeEXT(q, tlas, gl_RayFlagsOpaqueEXT, 0xff, origin, 0.0, vec3(0, 0, 1), 10.0);
   while (rayQueryProceedEXT(q)) {
   }
   uint i = p.y * 16u + p.x;
   if (rayQueryGetIntersectionTypeEXT(q, true) == gl_RayQueryCommittedIntersectionTriangleEXT) {
      vec2 b = rayQueryGetIntersectionBarycentricsEXT(q, true);
      o.v[i] = uvec4(1u + uint(rayQueryGetIntersectionInstanceCustomIndexEXT(q, true)),
                     uint(rayQueryGetIntersectionPrimitiveIndexEXT(q, true)),
                     uint(b.x * 1000.0 + 0.5), uint(b.y * 1000.0 + 0.5));
   } else {
      o.v[i] = uvec4(0u);
   }
}
