// Connections opened and closed (each close as the server's close handler saw it), for /count:
// the scale figure checks that every close reached the handler.
export const counters = { opened: 0, closed: 0 };

export const countResponse = (): Response => Response.json(counters);
