// What the closest-hit shader hands back to raygen.
struct HitPayload {
    float t;
    float u;
    float v;
    uint triangle;  // index into the scene's triangles; 0xffffffff: miss
};
