// Integration tests talk to a real broker and restart it: give them room.
jest.setTimeout(300000);
