window.YTD.tweets.part0 = [
  {
    "tweet": {
      "id_str": "1050118621198921728",
      "id": "1050118621198921728",
      "full_text": "Small models &amp; big ideas: I wrote up how the tab runs a model with no server https://t.co/abc123",
      "created_at": "Wed Oct 10 20:19:24 +0000 2018",
      "retweeted": false,
      "entities": {
        "urls": [
          {
            "url": "https://t.co/abc123",
            "expanded_url": "https://ada.example/posts/no-server",
            "display_url": "ada.example/posts/no-se\u2026"
          }
        ],
        "user_mentions": [],
        "hashtags": []
      },
      "favorite_count": "3"
    }
  },
  {
    "tweet": {
      "id_str": "1050118621198921729",
      "id": "1050118621198921729",
      "full_text": "RT @someone: this is not Ada's tweet",
      "created_at": "Wed Oct 10 20:19:24 +0000 2018",
      "retweeted": false,
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "favorite_count": "3"
    }
  },
  {
    "tweet": {
      "id_str": "1050118621198921730",
      "id": "1050118621198921730",
      "full_text": "Also not mine",
      "created_at": "Wed Oct 10 20:19:24 +0000 2018",
      "retweeted": true,
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "favorite_count": "3"
    }
  },
  {
    "tweet": {
      "id_str": "1050118621198921731",
      "id": "1050118621198921731",
      "full_text": "@bobsmith Agreed, &lt;3 the borrow checker. Ask @carol_j too",
      "created_at": "Wed Oct 10 20:19:24 +0000 2018",
      "retweeted": false,
      "entities": {
        "urls": [],
        "hashtags": [],
        "user_mentions": [
          {
            "screen_name": "bobsmith",
            "name": "Bob Smith",
            "id_str": "5"
          },
          {
            "screen_name": "carol_j",
            "name": "Carol Jones",
            "id_str": "6"
          }
        ]
      },
      "favorite_count": "3",
      "in_reply_to_status_id_str": "99",
      "in_reply_to_screen_name": "bobsmith"
    }
  },
  {
    "tweet": {
      "id_str": "1050118621198921732",
      "id": "1050118621198921732",
      "full_text": "https://t.co/pic999",
      "created_at": "Wed Oct 10 20:19:24 +0000 2018",
      "retweeted": false,
      "entities": {
        "urls": [],
        "media": [
          {
            "url": "https://t.co/pic999",
            "media_url": "http://pbs.twimg.com/x.jpg"
          }
        ],
        "user_mentions": []
      },
      "favorite_count": "3"
    }
  },
  {
    "tweet": {
      "id_str": "1050118621198921740",
      "id": "1050118621198921740",
      "full_text": "A thread on download sizes. 1/2",
      "created_at": "Thu Oct 11 08:00:00 +0000 2018",
      "retweeted": false,
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "favorite_count": "3"
    }
  },
  {
    "tweet": {
      "id_str": "1050118621198921741",
      "id": "1050118621198921741",
      "full_text": "@ada_ol 2/2: shards, sha256, the Cache API.",
      "created_at": "Thu Oct 11 08:01:00 +0000 2018",
      "retweeted": false,
      "entities": {
        "urls": [],
        "user_mentions": [
          {
            "screen_name": "ada_ol",
            "name": "Ada",
            "id_str": "7"
          }
        ]
      },
      "favorite_count": "3",
      "in_reply_to_status_id_str": "1050118621198921740",
      "in_reply_to_screen_name": "ada_ol"
    }
  }
]