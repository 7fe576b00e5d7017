console.log("hello from the frontend");
