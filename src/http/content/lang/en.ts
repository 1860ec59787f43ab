/** @module English content. Shape and placeholders: `../guide.ts`. */
import type { LanguagePack } from "../guide.ts";

export const EN: LanguagePack = {
  product: {
    title: "Matrix messaging",
    description: "Encrypted chat and calls on a Matrix server. Sign in to the Element app " +
      "with your Deploy App account: you join the deployment's space and shared rooms " +
      "automatically.",
    adminDescription: "As an admin you get moderator rights (power level 100) in the " +
      "deployment's space and shared rooms, and you are joined to the admins' room. The rights " +
      "follow your Deploy App role: promote and demote people in Deploy App, not in Matrix. " +
      "Removing a person in Deploy App also closes their Matrix account. The service keeps the " +
      "deployment's rooms as configured (encryption, who may join, names, topics), so organise " +
      "the unit's own work in rooms you create in the space.",
  },
  title: "Matrix with Element: sign in and get started",
  hello: "Hello {callsign}!",
  intro: "Matrix is this deployment's encrypted messaging service: chats, rooms, files, and " +
    "voice and video calls. You use it with the Element app and your Deploy App account. " +
    "Below: your details, which app to install, your first sign-in, and how to use it.",
  sections: {
    details: {
      heading: "Your details",
      blocks: [
        {
          list: [
            "**Homeserver:** {homeserver} (you enter this address in Element).",
            "**Your Matrix ID:** {userId} (others find you by it; it is made from your " +
            "callsign, and you cannot change it).",
            "**Password:** none. You sign in with your Deploy App account through single " +
            "sign-on. This server has no Matrix passwords, so never type one anywhere.",
          ],
        },
      ],
    },
    apps: {
      heading: "Install Element",
      blocks: [
        {
          list: [
            "**Android and iPhone:** the **Element Classic** app from Google Play or the App " +
            "Store; check that its name says Classic. The newer **Element X** app cannot sign " +
            "in here: it does not support the kind of single sign-on this server uses.",
            "**Windows, macOS and Linux:** Element Desktop from {elementDownload}.",
            "**Web browser:** Element Web at {elementWeb}; on a shared computer, sign out when " +
            "you are done.",
          ],
        },
        "Sign in on a device where your Deploy App certificate is installed: the sign-in " +
        "opens a browser, and the browser proves who you are with that certificate. Other " +
        "Matrix apps may work too, but this guide follows Element.",
      ],
    },
    firstLogin: {
      heading: "Sign in for the first time",
      blocks: [
        {
          steps: [
            "Open Element and choose to sign in (not to create an account).",
            "Change the homeserver: where Element shows a server name (often matrix.org), " +
            "choose to edit it and enter {homeserver}",
            "Continue with single sign-on. The button names the Deploy App's login service, " +
            "for example “Continue with Keycloak”. There is no password field to fill in.",
            "A browser opens the Deploy App's login. If it asks for a certificate, choose your " +
            "Deploy App certificate. If a page asks whether Element may sign you in, confirm.",
            "Back in Element you are signed in as {userId}.",
            "Element offers to set up recovery for your encrypted messages: do it now and keep " +
            "the recovery key safe (see “Encryption and your recovery key”).",
            "Wait a moment: within seconds of your first sign-in you are joined to the space and " +
            "its shared rooms. No invitations to accept.",
          ],
        },
      ],
    },
    rooms: {
      heading: "Your space and rooms",
      blocks: [
        "A space gathers the deployment's rooms in one place in Element. The links open a room " +
        "in your Matrix app (through matrix.to).",
        {
          list: [
            "**{spaceName}** {space}: the deployment's space.",
            "**{generalName}** {general}: work discussion that does not fit in any other room.",
            "**{helpdeskName}** {helpdesk}: report problems and get help.",
            "**{offtopicName}** {offtopic}: everything that is not about work.",
          ],
        },
        "Deploy App admins also have **{adminName}**, a room of their own. The number at the " +
        "start of a name only keeps the rooms in order. Anyone in the space may join the rooms " +
        "that are open to the space. In these rooms you see the messages sent after you joined, " +
        "not earlier ones.",
      ],
    },
    encryption: {
      heading: "Encryption and your recovery key",
      blocks: [
        "Messages in the deployment's rooms are end-to-end encrypted: only the devices of the " +
        "people in the room can read them, and the server stores only scrambled data. Each " +
        "device you sign in on has keys of its own.",
        {
          list: [
            "**Set up recovery** when Element offers it. You get a recovery key: a long string " +
            "of letters and digits. Keep it like a code of your own: in a password manager or " +
            "on paper in a safe place, never in a chat or a photo.",
            "**When Element asks for your recovery key** (a new phone, a new sign-in), enter it, " +
            "or confirm the new device from a device where you are already signed in: Element " +
            "shows a request there, and you compare the emoji or scan the code it shows.",
            "**Lost the key and no other device?** Element lets you reset your recovery. You can " +
            "keep using Matrix, but older encrypted messages stay unreadable on that device, and " +
            "others may see that your identity changed.",
            "**Verifying others** is optional: compare emoji face to face with someone to be " +
            "sure a device really is theirs.",
          ],
        },
      ],
    },
    messaging: {
      heading: "Messages",
      blocks: [
        {
          list: [
            "Write in a room, or start a direct chat: search for a person by callsign or " +
            "Matrix ID.",
            "Reply to a message to keep the conversation clear, or start a thread for a side topic.",
            "Mention someone by typing @ and their name: they get a notification.",
            "Share pictures and files; react with an emoji to acknowledge without a new message.",
            "You can edit and remove your own messages.",
            "Mute the rooms you only need now and then, so the important ones stand out.",
          ],
        },
      ],
    },
    calls: {
      heading: "Voice and video calls",
      blocks: [
        {
          list: [
            "In a direct chat, the phone and camera buttons start a voice or video call.",
            "In a room anyone may start a call that others in the room can join, for a " +
            "conference. Whether group calls work depends on the call services of this " +
            "deployment's server: if a call does not connect, say so in **{helpdeskName}**.",
            "Calls are encrypted too. On a weak connection, turn the video off and use voice.",
          ],
        },
      ],
    },
    organise: {
      heading: "Organising the unit's rooms",
      blocks: [
        "The service creates only the space and the rooms above. A unit can add its own rooms " +
        "to the space: anyone in the space may do it. Ideas that work well:",
        {
          list: [
            "**Command room:** like a command net on the radio. The leader and the subordinate " +
            "leaders, short and clear messages: orders, reports, acknowledgements. The room's " +
            "creator can allow only some people to write.",
            "**Friendly situation room:** own units report where they are, their status and " +
            "readiness, so everyone shares the same picture.",
            "**Recon room:** observations and reports: what, where, when, how many, and what " +
            "was done.",
            "**Guard room:** open to everyone in the space. Whoever is on guard or on duty joins " +
            "for the shift, hands over in the room and leaves afterwards.",
            "**Fires rooms:** one per fire unit or task, for fire requests, corrections and " +
            "coordination.",
          ],
        },
        "When you create a room: add it to the space, let the space's members join it (or make " +
        "it invite-only for a closed group), keep encryption on, and give it a number at the " +
        "start of its name so it sorts with the others. Whoever creates a room manages it; " +
        "Deploy App admins get no rights in it automatically.",
      ],
    },
    federation: {
      heading: "Other Matrix servers",
      blocks: [
        {
          list: [
            "Your Matrix ID ends in {serverName}: this deployment's own server.",
            "Matrix servers can talk to each other (federation), but whether this one does is " +
            "decided by whoever runs the deployment, and many deployments keep their server " +
            "closed. Ask your admin.",
            "If it is open, you can start a direct chat with someone on another server by their " +
            "full Matrix ID, and an admin can invite them into a room. The space and the admins' " +
            "room are invite-only, and the other rooms are open only to members of the space.",
            "Whatever you share with people on another server is stored on their server too. " +
            "Keep sensitive material in the deployment's own rooms.",
          ],
        },
      ],
    },
    roles: {
      heading: "When your role in Deploy App changes",
      blocks: [
        {
          list: [
            "**Enrolled:** your Matrix account is created at your first sign-in, and you are " +
            "joined to the space and the shared rooms.",
            "**Made an admin:** you get the highest rights (power level 100) in the space and " +
            "the shared rooms, and you are joined to the admins' room.",
            "**Admin rights removed:** your level goes back to normal and you are removed from " +
            "the admins' room.",
            "**Removed from Deploy App:** your Matrix account is closed for good and you cannot " +
            "sign in any more. Your messages are erased on the server: people who join a room " +
            "later do not see them (those already in the room may still have them).",
          ],
        },
      ],
    },
    help: {
      heading: "Help",
      blocks: [
        {
          list: [
            "Problems and questions: write in {helpdesk}. If you cannot sign in at all, contact " +
            "your Deploy App admin.",
            "Element's settings list the devices you are signed in on: sign out of the ones " +
            "you no longer use.",
            "More about Matrix in the ecosystem's guide: {docs}",
          ],
        },
      ],
    },
    admin: {
      heading: "For Deploy App admins",
      blocks: [
        {
          list: [
            "You have the highest rights (power level 100) in the space **{spaceName}** and its shared rooms: you " +
            "can change room settings, invite people, remove or ban them, and delete messages.",
            "You are joined to **{adminName}** {admin}, the admins' own room.",
            "Admin rights follow Deploy App: promote and demote people there, not in Matrix. The " +
            "service sets the admins' levels in the deployment's rooms and removes them from " +
            "people who are no longer admins.",
            "The service keeps the space and its rooms as configured: names, topics, " +
            "encryption, who may join, history and the space's links. Changes to those are " +
            "undone; organise the unit's work in rooms you create.",
            "To remove someone from the deployment, remove them in Deploy App: that closes " +
            "their Matrix account. A kick only removes them from one room, and they can join any " +
            "room open to the space again.",
            "The service's account {bot} runs the rooms: leave it in every room, and do not " +
            "kick it or lower its level.",
            "Only admins can invite people to the deployment's rooms; invite guests from other " +
            "servers only if your server talks to others and your unit allows it.",
          ],
        },
      ],
    },
  },
  notes: [
    "Messages are end-to-end encrypted: set up recovery when Element offers it and keep the " +
    "recovery key safe.",
    "You are joined to the space {space} and the rooms {general}, {helpdesk} and {offtopic} " +
    "automatically after your first sign-in.",
  ],
  adminNotes: [
    "As an admin you have power level 100 in the space and the shared rooms, and you are also " +
    "joined to {admin}.",
  ],
};
