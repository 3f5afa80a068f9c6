// The sessions of one server whose loop has not finished, linked through the sessions themselves.
import type { Session } from "../core/session.ts";

/** What a server needs of its unfinished sessions (a Set<Session> is one too). */
export interface SessionSet extends Iterable<Session> {
  readonly size: number;
  add(session: Session): void;
  delete(session: Session): void;
  has(session: Session): boolean;
}

/** Unfinished sessions, linked in place (see OpenSockets): a session costs no Set entry (~100 B on Bun). */
export class LiveSessions implements SessionSet {
  #head: Session | undefined;
  size = 0;

  add(session: Session): void {
    if (this.has(session)) return;
    session.listPrev = undefined;
    session.listNext = this.#head;
    if (this.#head) this.#head.listPrev = session;
    this.#head = session;
    this.size++;
  }

  /** Nothing happens for a session that is not here. */
  delete(session: Session): void {
    if (!this.has(session)) return;
    const { listPrev, listNext } = session;
    if (listPrev) listPrev.listNext = listNext;
    else this.#head = listNext;
    if (listNext) listNext.listPrev = listPrev;
    session.listPrev = undefined;
    session.listNext = undefined;
    this.size--;
  }

  /** Only the first session has no predecessor: a session is held by at most one server. */
  has(session: Session): boolean {
    return session.listPrev !== undefined || (this.#head !== undefined && this.#head === session);
  }

  /** Newest first. Callers that end sessions while walking walk a copy (`[...sessions]`). */
  *[Symbol.iterator](): Iterator<Session> {
    for (let session = this.#head; session; session = session.listNext) yield session;
  }
}
